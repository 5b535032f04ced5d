#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 600) each, one after the other.
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain build them.
# Leak detection is off: LeakSanitizer reports std's per-thread channel context in the
# carver's worker threads (48 bytes, freed by the runtime, not ours); panics, hangs (-timeout)
# and memory blow-ups (-rss_limit_mb) are what these targets look for.
set -u
cd "$(dirname "$0")"
secs=${1:-600}
for t in ${TARGETS:-ese_reader job_blob file_blob legacy_queue carver pipeline containers partition_table ntfs ewf ewf_segments vhdx vhd zip zip_nested}; do
    mkdir -p corpus/$t
    # Disk images need room: a 2 MiB NTFS volume is the smallest mkntfs makes.
    len=131072
    case $t in containers|ntfs|ewf|ewf_segments|vhdx|vhd|zip|zip_nested) len=4194304 ;; esac
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" corpus/$t -- -max_total_time="$secs" -max_len=$len \
        -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 > "/tmp/fuzz-$t.log" 2>&1
    echo "$t: exit $? $(grep -E '^Done|^#[0-9]+.*(DONE|pulse)' /tmp/fuzz-$t.log | tail -1)"
done
