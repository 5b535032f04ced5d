#!/usr/bin/env python3
"""Write a hive with a SYSTEM-style computer name, with hivex (Debian's python3-hivex).

Usage:
    make_system_hive.py BASE OUT SPEC.json

Copies the real hive BASE to OUT and adds Select (Current, Default, LastKnownGood: REG_DWORD)
and ControlSet%03u\\Control\\ComputerName\\ComputerName with ComputerName (REG_SZ, UTF-16LE,
NUL-terminated), from SPEC.json: {"current": n, "sets": {"1": name, "2": name, ...}}.
"""
import json
import shutil
import struct
import sys

import hivex

REG_SZ = 1
REG_DWORD = 4


def child(h, node, name):
    found = h.node_get_child(node, name)
    return found if found else h.node_add_child(node, name)


def main(base, out, spec_json):
    shutil.copyfile(base, out)
    with open(spec_json, encoding="utf-8") as f:
        spec = json.load(f)
    h = hivex.Hivex(out, write=True)
    root = h.root()
    select = child(h, root, "Select")
    current = struct.pack("<I", spec["current"])
    h.node_set_values(select, [
        {"key": "Current", "t": REG_DWORD, "value": current},
        {"key": "Default", "t": REG_DWORD, "value": current},
        {"key": "LastKnownGood", "t": REG_DWORD, "value": current},
    ])
    for number, name in spec["sets"].items():
        node = child(h, root, "ControlSet%03u" % int(number))
        for part in ["Control", "ComputerName", "ComputerName"]:
            node = child(h, node, part)
        h.node_set_values(node, [
            {"key": "ComputerName", "t": REG_SZ, "value": (name + "\0").encode("utf-16-le")},
        ])
    h.commit(out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
