#!/usr/bin/env python3
"""Independent oracle for bitscope's event log reader, built on python-evtx (Willi Ballenthin).

Usage:
    evtx_oracle.py PATH
    evtx_oracle.py --verify PATH   {"header": bool, "chunks": [bool, ...]}: python-evtx's own
                                   checks of the file header and of every chunk (magic, the
                                   header's and the records' CRC32s)

Prints one JSON object per record of the log, in python-evtx's order:

    {"num": record number (record header), "offset": offset of the record in the file,
     "size": its size, "written": the record header's FILETIME (raw integer),
     "event_record_id": System/EventRecordID, "event_id": System/EventID, "version": ..,
     "provider": System/Provider/@Name, "channel": .., "computer": ..,
     "user_sid": System/Security/@UserID or null, "process_id", "thread_id": System/Execution,
     "time_created": System/TimeCreated/@SystemTime as python-evtx renders it,
     "data": [[name, text], ...]}

"data" is EventData's <Data Name="..">text</Data> in order (an unnamed Data is named "Data"),
or, for UserData, the children of its one element (name = tag). Text is as python-evtx renders
it (its own formatting of times, hex numbers and booleans: the test compares those by value).
"""
import json
import sys
import xml.etree.ElementTree as ET

import Evtx.Evtx as evtx

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"


def local(tag):
    return tag.split("}", 1)[-1]


def main(path):
    with evtx.Evtx(path) as log:
        for r in log.records():
            root = ET.fromstring(r.xml())
            system = root.find(NS + "System")

            def child(name):
                return system.find(NS + name) if system is not None else None

            def text(name):
                c = child(name)
                return (c.text or "") if c is not None else ""

            def attr(name, a):
                c = child(name)
                return c.get(a) if c is not None else None

            data = []
            ed = root.find(NS + "EventData")
            if ed is not None:
                for d in ed:
                    data.append([d.get("Name") or local(d.tag), d.text or ""])
            ud = root.find(NS + "UserData")
            if ud is not None:
                for el in ud:
                    for d in el:
                        data.append([local(d.tag), d.text or ""])
            out = {
                "num": r.record_num(),
                "offset": r.offset(),
                "size": r.size(),
                "written": r.unpack_qword(0x10),
                "event_record_id": int(text("EventRecordID") or 0),
                "event_id": int(text("EventID") or 0),
                "version": int(text("Version")) if text("Version") else None,
                "provider": attr("Provider", "Name") or "",
                "channel": text("Channel"),
                "computer": text("Computer"),
                "user_sid": attr("Security", "UserID"),
                "process_id": int(attr("Execution", "ProcessID")) if attr("Execution", "ProcessID") else None,
                "thread_id": int(attr("Execution", "ThreadID")) if attr("Execution", "ThreadID") else None,
                "time_created": attr("TimeCreated", "SystemTime") or "",
                "data": data,
            }
            print(json.dumps(out, ensure_ascii=False))


def verify(path):
    with evtx.Evtx(path) as log:
        header = log.get_file_header()
        print(json.dumps({"header": bool(header.verify()), "chunks": [bool(c.verify()) for c in log.chunks()]}))


if __name__ == "__main__":
    if sys.argv[1] == "--verify":
        verify(sys.argv[2])
    else:
        main(sys.argv[1])
