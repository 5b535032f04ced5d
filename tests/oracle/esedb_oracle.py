#!/usr/bin/env python3
"""Independent oracle for bitscope's ESE reader, built on dissect.esedb.

Usage:
    esedb_oracle.py info PATH
        One JSON object: {"tables": [{"name", "columns": [{"id", "name", "type"}], "rows"}]}
        in catalog order. "type" is the JET_coltyp number; "rows" is how many records
        dissect's Table.records() yields.

    esedb_oracle.py dump PATH [--table NAME]
        JSON Lines, one object per row in iteration order, for every table in catalog
        order (MSys* tables included): {"table": NAME, "values": {COLUMN: VALUE}} with
        every column of the table in catalog order. Values come from record.get(name)
        (so column defaults apply) and are converted as follows:
          GUID                 canonical lowercase string (from bytes_le)
          Binary/LongBinary    lowercase hex string
          integers             JSON numbers
          Bit                  true/false
          IEEESingle/Double    JSON numbers (the Python float dissect returns); NaN/inf -> null
          DateTime             the raw int64 reinterpreted as a little-endian f64 OLE automation
                               date, as ISO-8601 UTC "YYYY-MM-DDTHH:MM:SS.mmmZ"; null when
                               non-finite or |days| > 3,000,000
          Text/LongText        the str dissect returns
          multi-valued         JSON array of converted elements
          absent               null
        A column whose record.get raises becomes "!ERROR! <ExceptionClass>: <message>".

PATH may end in .gz: it is gunzipped to a temporary file first.
Output is UTF-8, json.dumps(..., ensure_ascii=False, separators=(",", ":")).

What dissect.esedb 3.18 itself does (worth knowing when bitscope and the oracle differ):
- Table.records() walks the B+tree from the root and yields every leaf node; it does not skip
  nodes flagged deleted (fNDDeleted) or versioned, and after the walk it also follows the last
  leaf's pgnoNext when called on the root.
- Bit is true only for the byte 0xFF; any other byte (0x01 too) is false.
- Text is decoded by the column's code page (1200 UTF-16LE, 1252, ASCII) with
  errors="backslashreplace", then trailing NULs are stripped; odd-length UTF-16 gets a NUL added.
- Compressed values (7-bit ASCII/Unicode, Xpress) are decompressed; Xpress9/10 raise
  NotImplementedError. In a compressed multi-valued column only the first value is
  decompressed (in multi.edb the other values are indeed stored plain).
- Defaults (DefaultValue in the catalog) apply to fixed and variable columns past the record's
  last column id, and to absent tagged columns.
- DateTime is returned as the raw int64 (hence the OLE conversion here). The milliseconds use
  Python's round(), i.e. ties to even.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import shutil
import struct
import sys
import tempfile
import uuid
from contextlib import contextmanager

from dissect.esedb import EseDB

# JET_coltyp numbers
COLTYP_BIT = 1
COLTYP_DATETIME = 8
COLTYP_GUID = 16

MS_PER_DAY = 86_400_000
# 1899-12-30 as days since 1970-01-01
OLE_EPOCH_UNIX_DAYS = -25_569


def civil_from_days(z: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) for days since 1970-01-01 (any sign).

    Howard Hinnant's algorithm; works for years outside datetime's 1..9999.
    """
    z += 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


def format_year(y: int) -> str:
    # As chrono's %Y: four digits for 0..=9999, otherwise an explicit sign (ISO 8601 expanded).
    if 0 <= y <= 9999:
        return f"{y:04d}"
    return f"{y:+05d}"


def ole_date_iso(raw: int) -> str | None:
    """The raw int64 of a JET_coltypDateTime column, read as an OLE automation date."""
    d = struct.unpack("<d", struct.pack("<q", raw))[0]
    if not math.isfinite(d) or abs(d) > 3_000_000:
        return None
    whole = math.trunc(d)
    ms = whole * MS_PER_DAY + round(abs(d - whole) * MS_PER_DAY)
    days, ms_of_day = divmod(ms, MS_PER_DAY)
    y, m, dd = civil_from_days(days + OLE_EPOCH_UNIX_DAYS)
    hh, rem = divmod(ms_of_day, 3_600_000)
    mi, rem = divmod(rem, 60_000)
    ss, mss = divmod(rem, 1000)
    return f"{format_year(y)}-{m:02d}-{dd:02d}T{hh:02d}:{mi:02d}:{ss:02d}.{mss:03d}Z"


def convert(value, coltyp: int):
    """Convert one (non-list) value dissect returned into its JSON form."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if coltyp == COLTYP_DATETIME and isinstance(value, int):
        return ole_date_iso(value)
    if coltyp == COLTYP_GUID:
        if isinstance(value, str):
            return str(uuid.UUID(value))
        if isinstance(value, (bytes, bytearray, memoryview)):
            return str(uuid.UUID(bytes_le=bytes(value)))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, str):
        return value
    # Anything else is unexpected; keep it visible rather than guessing.
    return f"!ERROR! TypeError: unexpected value type {type(value).__name__}: {value!r}"


def convert_value(value, coltyp: int):
    if isinstance(value, list):
        return [convert(v, coltyp) for v in value]
    return convert(value, coltyp)


def column_type(column) -> int:
    t = column.type
    return int(getattr(t, "value", t))


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@contextmanager
def open_db_path(path: str):
    """Yield a plain file path, gunzipping .gz inputs to a temporary file first."""
    if not path.endswith(".gz"):
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix="esedb-oracle-", suffix=".edb")
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(path, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        yield tmp
    finally:
        os.unlink(tmp)


def cmd_info(db: EseDB, out) -> None:
    tables = []
    for table in db.tables():
        columns = [{"id": int(c.identifier), "name": c.name, "type": column_type(c)} for c in table.columns]
        rows = sum(1 for _ in table.records())
        tables.append({"name": table.name, "columns": columns, "rows": rows})
    out.write(dumps({"tables": tables}))
    out.write("\n")


def cmd_dump(db: EseDB, out, only: str | None) -> None:
    tables = db.tables()
    if only is not None:
        tables = [t for t in tables if t.name == only]
        if not tables:
            raise SystemExit(f"esedb_oracle: no table named {only!r}")
    for table in tables:
        columns = [(c.name, column_type(c)) for c in table.columns]
        prefix = '{"table":' + dumps(table.name) + ',"values":'
        for record in table.records():
            values = {}
            for name, coltyp in columns:
                try:
                    values[name] = convert_value(record.get(name), coltyp)
                except Exception as e:  # noqa: BLE001 - every failure is reported in-band
                    values[name] = f"!ERROR! {type(e).__name__}: {e}"
            out.write(prefix)
            out.write(dumps(values))
            out.write("}\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_info = sub.add_parser("info", help="tables, columns and row counts as one JSON object")
    p_info.add_argument("path")
    p_dump = sub.add_parser("dump", help="every row of every table as JSON Lines")
    p_dump.add_argument("path")
    p_dump.add_argument("--table", default=None, help="dump only this table")
    args = parser.parse_args(argv)

    out = open(sys.stdout.fileno(), "w", encoding="utf-8", errors="backslashreplace", buffering=1 << 20, closefd=False)
    try:
        with open_db_path(args.path) as path, open(path, "rb") as fh:
            db = EseDB(fh)
            if args.cmd == "info":
                cmd_info(db, out)
            else:
                cmd_dump(db, out, args.table)
    finally:
        try:
            out.flush()
        except BrokenPipeError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
