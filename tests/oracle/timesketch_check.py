"""Timesketch's rules for importing a JSONL timeline, applied offline to bitscope's output.

PyPI's timesketch-import-client cannot check a file offline: every ImportStreamer.add_*
call first requires a sketch on a server (`_ready()`), and it then only fills in what a line
lacks before uploading. The rules that decide whether a line is imported are the server's
(timesketch/lib/utils.py, read_and_validate_jsonl), which are restated here:

- every line is one JSON object;
- `message`, `datetime` and `timestamp_desc` are present (the mandatory fields);
- `datetime` is read by dateutil's parser, as the server reads it (a line whose datetime
  does not parse is skipped by the server: here it is an error), and must carry its zone;
- `timestamp`, when given, is an integer: microseconds since 1970; the server computes it as
  int(parse(datetime).timestamp() * 1000000), so it must equal that;
- `tag`, when given, is a list;
- fields the server scrubs (_id, _type, _index, _source, __ts_timeline_id) and any field
  starting with `_` (the import client drops them) are absent;
- and, from OpenSearch under the server: a field has one JSON type in every line (a field is
  mapped once per index; a later line with another type is refused), and an integer fits a
  signed 64-bit `long` (what OpenSearch maps a JSON integer to).

Also (bitscope's promise): every line names its `host`.

Usage: timesketch_check.py FILE.jsonl  -> prints a JSON summary; exit 1 with the errors.
"""

import json
import sys

from dateutil import parser

MANDATORY = ("message", "datetime", "timestamp_desc")
SCRUBBED = ("_id", "_type", "_index", "_source", "__ts_timeline_id")


def kind(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def main(path):
    errors = []
    types = {}
    hosts = set()
    descs = set()
    lines = 0
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            lines += 1
            try:
                d = json.loads(raw)
            except ValueError as e:
                errors.append(f"line {lineno}: not JSON: {e}")
                continue
            if not isinstance(d, dict):
                errors.append(f"line {lineno}: not a JSON object")
                continue
            missing = [f for f in MANDATORY if f not in d]
            if missing:
                errors.append(f"line {lineno}: missing {missing}")
                continue
            for f in MANDATORY:
                if not isinstance(d[f], str) or not d[f]:
                    errors.append(f"line {lineno}: {f} is not a non-empty string")
            try:
                dt = parser.parse(d["datetime"])
            except (parser.ParserError, ValueError, OverflowError) as e:
                errors.append(f"line {lineno}: datetime {d['datetime']!r}: {e}")
                continue
            if dt.tzinfo is None:
                errors.append(f"line {lineno}: datetime {d['datetime']!r} has no zone")
            want = int(dt.timestamp() * 1000000)
            ts = d.get("timestamp")
            if ts is not None and (not isinstance(ts, int) or isinstance(ts, bool)):
                errors.append(f"line {lineno}: timestamp {ts!r} is not an integer")
            elif ts is not None and ts != want:
                errors.append(f"line {lineno}: timestamp {ts} but datetime gives {want}")
            if "tag" in d and not isinstance(d["tag"], list):
                errors.append(f"line {lineno}: tag is not a list")
            for k in d:
                if k in SCRUBBED or k.startswith("_"):
                    errors.append(f"line {lineno}: field {k!r} would be dropped")
            for k, v in d.items():
                t = kind(v)
                if t == "integer" and not -(2**63) <= v < 2**63:
                    errors.append(f"line {lineno}: field {k!r} = {v} does not fit a long")
                if t == "null":
                    continue
                seen = types.setdefault(k, t)
                if seen != t:
                    errors.append(f"line {lineno}: field {k!r} is {t}, earlier {seen}")
            host = d.get("host")
            if not isinstance(host, str) or not host:
                errors.append(f"line {lineno}: no host")
            else:
                hosts.add(host)
            descs.add(d["timestamp_desc"])
    if errors:
        print("\n".join(errors[:50]), file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"lines": lines, "hosts": sorted(hosts), "fields": sorted(types),
                      "timestamp_desc": sorted(descs)}))


if __name__ == "__main__":
    main(sys.argv[1])
