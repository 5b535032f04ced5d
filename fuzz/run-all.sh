#!/usr/bin/env bash
# Run every fuzz target (or those in $TARGETS) for SECONDS (default 600) each, one after the
# other; exits 1 when any target found a crash, a hang or a memory blow-up.
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain build them.
# Leak detection is off: LeakSanitizer reports std's per-thread channel context in the
# carver's worker threads (48 bytes, freed by the runtime, not ours); panics, hangs (-timeout)
# and memory blow-ups (-rss_limit_mb) are what these targets look for.
set -u
cd "$(dirname "$0")"
secs=${1:-600}
export RUSTC_BOOTSTRAP=1
targets=${TARGETS:-$(cargo fuzz list)}
failed=()
for t in $targets; do
    mkdir -p corpus/$t
    # Disk images need room: a 2 MiB NTFS volume is the smallest mkntfs makes.
    len=131072
    case $t in containers|ntfs|ewf|ewf_segments|vhdx|vhd|zip|zip_nested) len=4194304 ;; esac
    cargo fuzz run -O "$t" corpus/$t -- -max_total_time="$secs" -max_len=$len \
        -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 > "/tmp/fuzz-$t.log" 2>&1
    status=$?
    echo "$t: exit $status $(grep -E '^Done|^#[0-9]+.*(DONE|pulse)' /tmp/fuzz-$t.log | tail -1)"
    if [ "$status" -ne 0 ]; then
        failed+=("$t")
        tail -40 "/tmp/fuzz-$t.log"
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz targets that failed: ${failed[*]} (logs in /tmp/fuzz-TARGET.log, inputs in fuzz/artifacts/)"
    exit 1
fi
