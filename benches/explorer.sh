#!/usr/bin/env bash
# Measure the explorer on one evidence file: time until the first records show, time until
# the load is done, and peak / steady resident memory. Runs `bitscope PATH` in a detached
# tmux session (160x45), samples /proc/PID/status every 20 ms, quits with `q` when the status
# line says "done:". Builds nothing: `cargo build --release` first.
#
# Usage: benches/explorer.sh PATH [RUNS]        (needs tmux; prints one line per run)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BITSCOPE_BIN:-$ROOT/target/release/bitscope}
EVIDENCE=${1:?usage: benches/explorer.sh PATH [RUNS]}
RUNS=${2:-3}
command -v tmux >/dev/null || { echo "explorer.sh: tmux not found" >&2; exit 2; }
[[ -x $BIN ]] || { echo "explorer.sh: $BIN not built" >&2; exit 2; }
SESSION=bitscope-bench-$$
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true' EXIT

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

for ((run = 1; run <= RUNS; run++)); do
    start=$(date +%s%N)
    tmux new-session -d -s "$SESSION" -x 160 -y 45 "exec '$BIN' '$EVIDENCE'"
    pid=""
    for _ in $(seq 100); do
        pid=$(tmux list-panes -t "$SESSION" -F '#{pane_pid}' 2>/dev/null || true)
        [[ -n $pid ]] && break
        sleep 0.01
    done
    peak=0 first="" done_at="" steady=0
    deadline=$((start + 600 * 1000000000))
    while kill -0 "$pid" 2>/dev/null; do
        r=$(rss "$pid")
        ((r > peak)) && peak=$r
        screen=$(tmux capture-pane -p -t "$SESSION" 2>/dev/null || true)
        now=$(date +%s%N)
        if [[ -z $first ]] && grep -qE '[1-9][0-9]* records|records: [1-9]' <<<"$screen"; then
            first=$(((now - start) / 1000000))
        fi
        if [[ -z $done_at ]] && grep -q '^done:' <<<"$screen"; then
            done_at=$(((now - start) / 1000000))
            sleep 1
            steady=$(rss "$pid")
            tmux send-keys -t "$SESSION" q
        fi
        if ((now > deadline)); then
            echo "explorer.sh: not done after 600 s" >&2
            break
        fi
        sleep 0.02
    done
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    printf 'run %d: first records %s ms, done %s ms, peak RSS %d MB, steady RSS %d MB\n' \
        "$run" "${first:-?}" "${done_at:-?}" $((peak / 1024)) $((steady / 1024))
done
