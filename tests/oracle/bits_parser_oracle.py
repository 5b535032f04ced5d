#!/usr/bin/env python3
"""Independent oracle for bitscope's legacy queue decoder, built on ANSSI bits_parser.

Usage:
    bits_parser_oracle.py PATH

Prints one JSON object describing what bits_parser 1.0.1 (with construct 2.8.12) finds in the
legacy queue file PATH (qmgr0.dat / qmgr1.dat):

    {"queue": {"parsed": bool, "header_len": int|null, "job_count": int|null,
               "jobs_len": int|null, "remains_len": int|null, "error": str|null},
     "delimiter": "HEX"|null,
     "jobs":   [JOB, ...],     # Bits.parse(): the job list between the QUEUE_HEADERs
     "carved": [JOB, ...]}     # Bits.carve(): what its carver recovers from the rest of the file

"queue" is bits_parser's own QUEUE struct parsed on the whole file (Bits.load_file does the
same; "parsed" false means it fell back to carving everything). "header_len" is the length of
its "header" field, i.e. the bytes before FILE_HEADER (the preamble). "delimiter" is the job
delimiter Bits.guess_info() chose (the known delimiter with the most occurrences in the file).

A JOB holds every field bits_parser produced, converted to JSON:
    enums (type, priority, state, flags)  bits_parser's own names as strings (an unknown value
                                          stays an integer)
    job_id                                canonical lowercase GUID string (bits_parser's)
    strings                               as decoded (bits_parser strips NULs at both ends)
    times (ctime, mtime, other_time0..2)  {"iso": datetime.isoformat(),
                                           "us": microseconds since 1601-01-01}: exact integer
                                          arithmetic on the datetime bits_parser returned
    files                                 list of {dest_fn, src_fn, tmp_fn, download_size,
                                          transfer_size, drive, vol_guid} (fields present only)
    errors                                list of {code, stat1..stat4}
    bytes (access_token)                  {"len": n} only
    carved                                true for carved jobs
The "offset" helper fields of file records are dropped.

Output is UTF-8, json.dumps(..., ensure_ascii=False, sort_keys=True).

What bits_parser 1.0.1 itself does (worth knowing when bitscope and the oracle differ):
- QUEUE reads the header up to the first FILE_HEADER (any preamble length works), the job count,
  the job bytes up to the first QUEUE_HEADER, an "unknown" part up to the next FILE_HEADER, and
  the rest as "remains" (footer and slack), which only the carver looks at.
- One delimiter is used for the whole file: the known one occurring most often (ties go to the
  larger byte string). Jobs written with another delimiter are not parsed. The XP x64 delimiter
  74E70C81... is not in its list.
- A job's file section (between the XFER markers) is split on the 4 bytes 03000000; each piece
  is parsed as a file record from 6 bytes before its first ':' byte, so pieces without a
  drive-letter path are dropped (logged as unknown data).
- Error entries are read as 25 bytes each (u64 code, four u32, one byte).
- FILETIMEs become datetime(1601, 1, 1) + timedelta(microseconds=value / 10): a float division,
  so a value past 2**53 / 10 loses precision; compare at the microsecond with a small tolerance.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys

import construct.core

from bits import Bits
from bits.structs import QUEUE

EPOCH = datetime.datetime(1601, 1, 1)
TIME_FIELDS = ("ctime", "mtime", "other_time0", "other_time1", "other_time2")


def convert(value):
    if isinstance(value, datetime.datetime):
        return {"iso": value.isoformat(), "us": (value - EPOCH) // datetime.timedelta(microseconds=1)}
    if isinstance(value, (bytes, bytearray)):
        return {"len": len(value)}
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(k): convert(v) for k, v in value.items() if k != "offset" and not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [convert(v) for v in value]
    return str(value)


def queue_facts(data: bytes) -> dict:
    try:
        q = QUEUE.parse(data)
    except construct.core.ConstructError as e:
        return {"parsed": False, "header_len": None, "job_count": None, "jobs_len": None,
                "remains_len": None, "error": f"{type(e).__name__}: {e}"}
    return {"parsed": True, "header_len": len(q.header), "job_count": int(q.job_count),
            "jobs_len": len(q.jobs), "remains_len": len(q.remains), "error": None}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    logging.disable(logging.CRITICAL)
    path = argv[1]
    with open(path, "rb") as f:
        data = f.read()
    bits = Bits.load_file(path)
    out = {
        "queue": queue_facts(data),
        "delimiter": bits.delimiter.hex().upper() if bits.delimiter else None,
        "jobs": [convert(dict(j)) for j in bits.parse()],
        "carved": [convert(dict(j)) for j in bits.carve()],
    }
    sys.stdout.write(json.dumps(out, ensure_ascii=False, sort_keys=True))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
