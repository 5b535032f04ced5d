#!/usr/bin/env bash
# Benchmark `bitscope parse` (with and without carving) against artemis's `bits` artifact
# on one generated qmgr.db. Builds nothing: build bitscope first
# (`cargo build --release`), and artemis separately if you want it compared.
#
# Usage: benches/vs_artemis.sh
# Environment:
#   ARTEMIS_BIN   path to an artemis binary (0.20.x); if unset, artemis rows are skipped
#   RUNS          runs per row (default 3); the table shows medians
#   DB            use this existing qmgr.db instead of generating one (must end in .db for artemis)
#   JOBS DELETED SEED   generator parameters (default 20000, 2000, 11; 1 file per job)
#   BITSCOPE_BIN BITSCOPE_GEN_BIN   override target/release/bitscope{,-gen}
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BITSCOPE=${BITSCOPE_BIN:-$ROOT/target/release/bitscope}
GEN=${BITSCOPE_GEN_BIN:-$ROOT/target/release/bitscope-gen}
ARTEMIS_BIN=${ARTEMIS_BIN:-}
RUNS=${RUNS:-3}
JOBS=${JOBS:-20000}
DELETED=${DELETED:-2000}
SEED=${SEED:-11}
TIME=/usr/bin/time

die() { echo "vs_artemis: $*" >&2; exit 2; }
[[ -x $TIME ]] || die "$TIME not found (Debian package: time)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ -x $BITSCOPE ]] || die "$BITSCOPE not built (cargo build --release)"
if [[ -n $ARTEMIS_BIN ]]; then
    [[ -x $ARTEMIS_BIN ]] || die "ARTEMIS_BIN=$ARTEMIS_BIN is not executable"
    ARTEMIS_BIN=$(cd "$(dirname "$ARTEMIS_BIN")" && pwd)/$(basename "$ARTEMIS_BIN")
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vs_artemis.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

if [[ -n ${DB:-} ]]; then
    [[ -f $DB ]] || die "DB=$DB is not a file"
    DB=$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB")
    DB_DESC="$DB"
else
    [[ -x $GEN ]] || die "$GEN not built (cargo build --release)"
    DB=$TMP/db/qmgr.db
    mkdir -p "$TMP/db"
    "$GEN" ese --jobs "$JOBS" --files-per-job 1 --deleted "$DELETED" --seed "$SEED" --out "$DB" >/dev/null
    DB_DESC="bitscope-gen ese --jobs $JOBS --files-per-job 1 --deleted $DELETED --seed $SEED"
fi

# median of numbers on stdin (mean of the two middle values for an even count)
median() {
    sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# count_lines FILE: lines of a JSONL file, gunzipping if needed
count_lines() {
    case $1 in
        *.gz) gzip -dc -- "$1" | wc -l ;;
        *) wc -l <"$1" ;;
    esac
}

ROWS=()
# bench LABEL OUTKIND CMD...   OUTKIND: file:PATH (one file) or artemis:DIR (bits_* files in DIR)
bench() {
    local label=$1 out=$2; shift 2
    local times=$TMP/times.$RANDOM status=0 fails=0 i
    : >"$times"
    for ((i = 1; i <= RUNS; i++)); do
        case $out in
            file:*) rm -f -- "${out#file:}" ;;
            artemis:*) rm -rf -- "${out#artemis:}" ;;
        esac
        status=0
        "$TIME" -f '%e %M' -o "$TMP/time.out" "$@" >"$TMP/stdout.log" 2>"$TMP/stderr.log" || status=$?
        if ((status != 0)); then
            fails=$((fails + 1))
            echo "vs_artemis: $label run $i exited $status; stderr tail:" >&2
            tail -n 5 "$TMP/stderr.log" >&2 || true
        fi
        tail -n 1 "$TMP/time.out" >>"$times"
    done
    local wall rss bytes=0 records=0 f
    wall=$(awk '{print $1}' "$times" | median)
    rss=$(awk '{print $2 / 1024}' "$times" | median)
    case $out in
        file:*)
            f=${out#file:}
            if [[ -f $f ]]; then bytes=$(stat -c %s -- "$f"); records=$(count_lines "$f"); fi
            ;;
        artemis:*)
            # artemis writes DIR/bits_<uuid>.jsonl[.gz] next to its own log artemis_<id>_<uuid>.jsonl
            while IFS= read -r -d '' f; do
                bytes=$((bytes + $(stat -c %s -- "$f")))
                records=$((records + $(count_lines "$f")))
            done < <(find "${out#artemis:}" -type f -name 'bits_*.jsonl*' -print0 2>/dev/null)
            ;;
    esac
    local note=""
    ((fails == 0)) || note=" (${fails}/${RUNS} runs failed)"
    ROWS+=("$(printf '| %s%s | %.2f | %.1f | %s | %s |' "$label" "$note" "$wall" "$rss" "$bytes" "$records")")
}

bench "bitscope parse --carve" "file:$TMP/carve.jsonl" \
    "$BITSCOPE" parse --carve --format jsonl -o "$TMP/carve.jsonl" "$DB"
bench "bitscope parse" "file:$TMP/live.jsonl" \
    "$BITSCOPE" parse --format jsonl -o "$TMP/live.jsonl" "$DB"

if [[ -n $ARTEMIS_BIN ]]; then
    for carve in true false; do
        toml=$TMP/artemis-carve-$carve.toml
        cat >"$toml" <<EOF
[output]
name = "bits_$carve"
directory = "$TMP/artemis-out"
format = "jsonl"
compress = false
timeline = false
endpoint_id = "vs_artemis"
collection_id = 1
destination = "local"

[[artifacts]]
artifact_name = "bits"
[artifacts.bits]
carve = $carve
alt_file = "$DB"
EOF
        bench "artemis bits (carve = $carve)" "artemis:$TMP/artemis-out/bits_$carve" \
            "$ARTEMIS_BIN" -t "$toml"
    done
fi

echo "db: $DB_DESC ($(stat -c %s -- "$DB") bytes); runs: $RUNS; cores: $(nproc)"
echo "bitscope: $("$BITSCOPE" --version 2>/dev/null || echo '?')${ARTEMIS_BIN:+; artemis: $("$ARTEMIS_BIN" --version 2>/dev/null || echo '?')}"
echo
echo "| work | median wall s | median peak RSS MB | output bytes | records |"
echo "|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
