#!/usr/bin/env python3
"""Write a hive with a SOFTWARE-style ProfileList, with hivex (Debian's python3-hivex).

Usage:
    make_software_hive.py BASE OUT PROFILES.json

Copies the real hive BASE to OUT and adds Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\<SID>
keys, each with ProfileImagePath (REG_EXPAND_SZ, UTF-16LE) and Flags (REG_DWORD), from
PROFILES.json: [[sid, profile path], ...].
"""
import json
import shutil
import struct
import sys

import hivex

REG_EXPAND_SZ = 2
REG_DWORD = 4


def main(base, out, profiles_json):
    shutil.copyfile(base, out)
    with open(profiles_json, encoding="utf-8") as f:
        profiles = json.load(f)
    h = hivex.Hivex(out, write=True)
    node = h.root()
    for part in ["Microsoft", "Windows NT", "CurrentVersion", "ProfileList"]:
        child = h.node_get_child(node, part)
        node = child if child else h.node_add_child(node, part)
    for sid, path in profiles:
        key = h.node_add_child(node, sid)
        h.node_set_values(key, [
            {"key": "ProfileImagePath", "t": REG_EXPAND_SZ, "value": (path + "\0").encode("utf-16-le")},
            {"key": "Flags", "t": REG_DWORD, "value": struct.pack("<I", 0)},
        ])
    h.commit(out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
