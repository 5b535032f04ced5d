#!/usr/bin/env python3
"""Independent oracle for bitscope's USN journal reader, built on dissect.ntfs's UsnJrnl.

Usage:
    usn_oracle.py PATH      (PATH: the bytes of a $UsnJrnl:$J stream)

Prints one JSON object per record dissect.ntfs reads: offset, length, major, minor, entry,
sequence, parent_entry, parent_sequence, usn, time (raw FILETIME), reason, source_info,
security_id, attributes (raw integers) and name.
"""
import json
import sys

from dissect.ntfs.usnjrnl import UsnJrnl


def main(path):
    with open(path, "rb") as f:
        for r in UsnJrnl(f).records():
            rec = r.record
            ref = rec.FileReferenceNumber
            parent = rec.ParentFileReferenceNumber
            print(json.dumps({
                "offset": r.offset,
                "length": rec.RecordLength,
                "major": rec.MajorVersion,
                "minor": rec.MinorVersion,
                "entry": ref.SegmentNumberLowPart | (ref.SegmentNumberHighPart << 32),
                "sequence": ref.SequenceNumber,
                "parent_entry": parent.SegmentNumberLowPart | (parent.SegmentNumberHighPart << 32),
                "parent_sequence": parent.SequenceNumber,
                "usn": rec.Usn,
                "time": rec.TimeStamp,
                "reason": int(rec.Reason),
                "source_info": int(rec.SourceInfo),
                "security_id": rec.SecurityId,
                "attributes": int(rec.FileAttributes),
                "name": r.filename,
            }, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
