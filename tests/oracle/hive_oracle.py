#!/usr/bin/env python3
"""Independent oracle for bitscope's hive reader and accounts, built on regipy.

Usage:
    hive_oracle.py sam PATH        {"machine_sid": str, "names": [[name, rid], ...],
                                    "users": [key name, ...]}
    hive_oracle.py profiles PATH   [[sid, ProfileImagePath], ...]
    hive_oracle.py computer PATH   {"current": n, "name": str or null, "plugin": [str, ...]}

"machine_sid" is regipy's LocalSidPlugin; "names" the subkeys of SAM\\Domains\\Account\\Users\\Names
with the type of their default value (the RID: that is how SAM stores it); "users" the other
subkeys of Users (the RIDs in hex). "profiles" is regipy's ProfileListPlugin (sid, path).
"computer": Select\\Current read with regipy, the ComputerName value of that control set's
Control\\ComputerName\\ComputerName ("name"), and regipy's ComputerNamePlugin, which lists the
name of every control set ("plugin").
"""
import json
import logging
import sys

logging.disable(logging.CRITICAL)

from regipy.registry import RegistryHive
from regipy.plugins.sam.local_sid import LocalSidPlugin
from regipy.plugins.software.profilelist import ProfileListPlugin
from regipy.plugins.system.computer_name import ComputerNamePlugin


def sam(path):
    hive = RegistryHive(path)
    plugin = LocalSidPlugin(hive, as_json=True)
    plugin.run()
    names = []
    for key in hive.get_key(r"\SAM\Domains\Account\Users\Names").iter_subkeys():
        default = [v for v in key.iter_values() if v.name in ("(default)", "")]
        names.append([key.name, int(default[0].value_type) if default else None])
    users = [k.name for k in hive.get_key(r"\SAM\Domains\Account\Users").iter_subkeys() if k.name != "Names"]
    print(json.dumps({"machine_sid": plugin.entries[0]["machine_sid"], "names": names, "users": users}))


def profiles(path):
    hive = RegistryHive(path)
    plugin = ProfileListPlugin(hive, as_json=True)
    plugin.run()
    print(json.dumps([[e["sid"], e["path"]] for e in plugin.entries], ensure_ascii=False))


def computer(path):
    hive = RegistryHive(path)
    current = hive.get_key(r"\Select").get_value("Current")
    try:
        key = hive.get_key(r"\ControlSet%03u\Control\ComputerName\ComputerName" % current)
        name = key.get_value("ComputerName")
    except Exception:
        name = None
    plugin = ComputerNamePlugin(hive, as_json=True)
    plugin.run()
    print(json.dumps({"current": current, "name": name, "plugin": [e["name"] for e in plugin.entries]},
                     ensure_ascii=False))


if __name__ == "__main__":
    {"sam": sam, "profiles": profiles, "computer": computer}[sys.argv[1]](sys.argv[2])
