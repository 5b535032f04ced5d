#!/usr/bin/env bash
# Issue 23's five targets side by side, in one run (medians of RUNS). The machine may be
# shared: the ratios between rows of the same run are what count, not the absolute seconds.
# CPU seconds (user + system) are shown too: they move less than wall time under load.
#
#   1. 4k db: `parse --carve` vs artemis (time and peak memory)
#   2. 20k db: `parse --carve` vs `bitscope ese dump` of the same file (and the record count)
#   3. JSONL bytes per record, bitscope vs artemis, on the 4k db
#   4. explorer on a 40,500-record db vs `parse --carve` of it (EXPLORER=1; needs tmux)
#   5. 200k db: `parse --carve` records/s and peak memory vs the 20k db (BIG=0 skips it)
#
# Usage: benches/speed.sh      Builds nothing: `cargo build --release` first.
# Environment: ARTEMIS_BIN (artemis 0.20.x; rows skipped if unset), RUNS (default 3),
#   EXPLORER=1, BIG=0, BITSCOPE_BIN, BITSCOPE_GEN_BIN, TMPDIR (the 200k db is ~1.1 GB).
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BITSCOPE=${BITSCOPE_BIN:-$ROOT/target/release/bitscope}
GEN=${BITSCOPE_GEN_BIN:-$ROOT/target/release/bitscope-gen}
ARTEMIS_BIN=${ARTEMIS_BIN:-}
RUNS=${RUNS:-3}
TIME=/usr/bin/time

die() { echo "speed: $*" >&2; exit 2; }
[[ -x $TIME ]] || die "$TIME not found (Debian package: time)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ -x $BITSCOPE ]] || die "$BITSCOPE not built (cargo build --release)"
[[ -x $GEN ]] || die "$GEN not built (cargo build --release)"
[[ -z $ARTEMIS_BIN || -x $ARTEMIS_BIN ]] || die "ARTEMIS_BIN=$ARTEMIS_BIN is not executable"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/speed.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

median() {
    sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# gen NAME ARGS...: a generated qmgr.db at $TMP/NAME/qmgr.db (artemis wants the .db name)
gen() {
    local name=$1; shift
    mkdir -p "$TMP/$name"
    "$GEN" ese "$@" --out "$TMP/$name/qmgr.db" >/dev/null
    rm -f "$TMP/$name/qmgr.db.truth.json"
    echo "  $name: bitscope-gen ese $*" >&2
}

# run KEY CMD...: RUNS runs; sets WALL[KEY], CPU[KEY] (s) and RSS[KEY] (MB), medians
declare -A WALL CPU RSS
run() {
    local key=$1; shift
    local times=$TMP/times.$key i
    : >"$times"
    for ((i = 1; i <= RUNS; i++)); do
        rm -rf "$TMP/out"
        mkdir -p "$TMP/out"
        "$TIME" -f '%e %U %S %M' -o "$TMP/time.out" "$@" >/dev/null 2>"$TMP/stderr.log" ||
            { echo "speed: $key run $i failed:" >&2; tail -n 5 "$TMP/stderr.log" >&2; }
        tail -n 1 "$TMP/time.out" >>"$times"
    done
    WALL[$key]=$(awk '{print $1}' "$times" | median)
    CPU[$key]=$(awk '{print $2 + $3}' "$times" | median)
    RSS[$key]=$(awk '{print $4 / 1024}' "$times" | median | xargs printf '%.1f')
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
lines() { wc -l <"$1"; }

echo "generating:" >&2
gen 4k --jobs 4000 --files-per-job 1 --deleted 400 --seed 11
gen 20k --jobs 20000 --files-per-job 1 --deleted 2000 --seed 11

echo "| target | command | median wall s | median CPU s | median peak RSS MB | figure |"
echo "|---|---|---:|---:|---:|---|"

# 1 and 3: the 4k db against artemis.
run b4k "$BITSCOPE" parse --carve --format jsonl -o "$TMP/out/b.jsonl" "$TMP/4k/qmgr.db"
b4k_records=$(lines "$TMP/out/b.jsonl")
b4k_bytes=$(stat -c %s "$TMP/out/b.jsonl")
printf '| 1 | bitscope parse --carve (4k db) | %s | %s | %s | %s records |\n' \
    "${WALL[b4k]}" "${CPU[b4k]}" "${RSS[b4k]}" "$b4k_records"
if [[ -n $ARTEMIS_BIN ]]; then
    cat >"$TMP/artemis.toml" <<EOF
[output]
name = "bits"
directory = "$TMP/out"
format = "jsonl"
compress = false
timeline = false
endpoint_id = "speed"
collection_id = 1
destination = "local"

[[artifacts]]
artifact_name = "bits"
[artifacts.bits]
carve = true
alt_file = "$TMP/4k/qmgr.db"
EOF
    run a4k "$ARTEMIS_BIN" -t "$TMP/artemis.toml"
    a_bytes=0 a_records=0
    while IFS= read -r -d '' f; do
        a_bytes=$((a_bytes + $(stat -c %s -- "$f")))
        a_records=$((a_records + $(lines "$f")))
    done < <(find "$TMP/out/bits" -type f -name 'bits_*.jsonl' -print0 2>/dev/null)
    printf '| 1 | artemis bits, carve = true (4k db) | %s | %s | %s | %s records; bitscope/artemis: wall %s, CPU %s, RSS %s (target <= 0.25, <= 0.5) |\n' \
        "${WALL[a4k]}" "${CPU[a4k]}" "${RSS[a4k]}" "$a_records" \
        "$(ratio "${WALL[b4k]}" "${WALL[a4k]}")" "$(ratio "${CPU[b4k]}" "${CPU[a4k]}")" \
        "$(ratio "${RSS[b4k]}" "${RSS[a4k]}")"
    printf '| 3 | JSONL bytes per record (4k db) | | | | bitscope %s, artemis %s (target: bitscope <= artemis) |\n' \
        "$((b4k_bytes / (b4k_records > 0 ? b4k_records : 1)))" \
        "$((a_bytes / (a_records > 0 ? a_records : 1)))"
else
    printf '| 3 | JSONL bytes per record (4k db) | | | | bitscope %s (artemis: ARTEMIS_BIN unset) |\n' \
        "$((b4k_bytes / (b4k_records > 0 ? b4k_records : 1)))"
fi

# 2: the 20k db against the ESE floor.
run b20k "$BITSCOPE" parse --carve --format jsonl -o "$TMP/out/b.jsonl" "$TMP/20k/qmgr.db"
b20k_records=$(lines "$TMP/out/b.jsonl")
run d20k "$BITSCOPE" ese dump "$TMP/20k/qmgr.db"
printf '| 2 | bitscope parse --carve (20k db) | %s | %s | %s | %s records (target 22000) |\n' \
    "${WALL[b20k]}" "${CPU[b20k]}" "${RSS[b20k]}" "$b20k_records"
printf '| 2 | bitscope ese dump (20k db) | %s | %s | %s | parse/dump: wall %s, CPU %s (target <= 1.5) |\n' \
    "${WALL[d20k]}" "${CPU[d20k]}" "${RSS[d20k]}" \
    "$(ratio "${WALL[b20k]}" "${WALL[d20k]}")" "$(ratio "${CPU[b20k]}" "${CPU[d20k]}")"

# 4: the explorer, all records of a 40,500-record db, against parse --carve of it.
if [[ ${EXPLORER:-0} == 1 ]]; then
    gen 40k --jobs 20000 --files-per-job 2 --deleted 500 --seed 7
    run b40k "$BITSCOPE" parse --carve --format jsonl -o "$TMP/out/b.jsonl" "$TMP/40k/qmgr.db"
    printf '| 4 | bitscope parse --carve (40.5k-record db) | %s | %s | %s | |\n' \
        "${WALL[b40k]}" "${CPU[b40k]}" "${RSS[b40k]}"
    BITSCOPE_BIN=$BITSCOPE "$ROOT/benches/explorer.sh" "$TMP/40k/qmgr.db" "$RUNS" |
        sed 's/^/| 4 | explorer (40.5k-record db) | | | | /; s/$/ (target: done <= 1.5x parse, peak <= 200 MB) |/'
    rm -rf "$TMP/40k"
fi

# 5: a 200k db: records per second and peak memory against the 20k db.
if [[ ${BIG:-1} != 0 ]]; then
    gen 200k --jobs 200000 --files-per-job 1 --deleted 20000 --seed 11
    run b200k "$BITSCOPE" parse --carve --format jsonl -o "$TMP/out/b.jsonl" "$TMP/200k/qmgr.db"
    b200k_records=$(lines "$TMP/out/b.jsonl")
    rm -rf "$TMP/out" "$TMP/200k"
    rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }
    printf '| 5 | bitscope parse --carve (20k db) | %s | %s | %s | %s records/s wall, %s per CPU s |\n' \
        "${WALL[b20k]}" "${CPU[b20k]}" "${RSS[b20k]}" \
        "$(rate "$b20k_records" "${WALL[b20k]}")" "$(rate "$b20k_records" "${CPU[b20k]}")"
    printf '| 5 | bitscope parse --carve (200k db) | %s | %s | %s | %s records, %s records/s wall, %s per CPU s; RSS x%s for x10 records |\n' \
        "${WALL[b200k]}" "${CPU[b200k]}" "${RSS[b200k]}" "$b200k_records" \
        "$(rate "$b200k_records" "${WALL[b200k]}")" "$(rate "$b200k_records" "${CPU[b200k]}")" \
        "$(ratio "${RSS[b200k]}" "${RSS[b20k]}")"
fi

echo
echo "runs: $RUNS; cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bitscope: $("$BITSCOPE" --version 2>/dev/null || echo '?')${ARTEMIS_BIN:+; artemis: $("$ARTEMIS_BIN" --version 2>/dev/null || echo '?')}"
