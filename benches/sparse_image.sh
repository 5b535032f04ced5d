#!/usr/bin/env bash
# `bitscope parse --carve` over a large sparse raw disk image: an MBR and one NTFS partition at
# 1 MiB (mkntfs -F -Q), holding the win11 and win10 qmgr.db under ProgramData and Windows.old
# and a deleted copy of win10 under a user's Temp folder (the recipe of tests/images.rs,
# common/disk_image.rs). The volume is sparse: nearly all of it is unallocated clusters, which
# `--carve` reads and carves. Timed with /usr/bin/time -v: wall time, peak RSS, throughput.
#
# Usage: benches/sparse_image.sh [SIZE [RUNS [IMAGE]]]   (SIZE for truncate, default 8G; RUNS
#        default 3). IMAGE (default target/bench-images/disk-SIZE.raw) is made when missing and
#        kept, so benches/explorer.sh can be run on it afterwards. Needs mkntfs, ntfs-3g,
#        /dev/fuse and root (the mount); builds nothing: `cargo build --release` first.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BITSCOPE_BIN:-$ROOT/target/release/bitscope}
SIZE=${1:-8G}
RUNS=${2:-3}
IMAGE=${3:-$ROOT/target/bench-images/disk-$SIZE.raw}
SAMPLES=${BITSCOPE_SAMPLES:-$ROOT/../shared/samples}
[[ -x $BIN ]] || { echo "sparse_image.sh: $BIN not built" >&2; exit 2; }

make_image() {
    local dir vol mnt pid bytes sectors
    dir=$(mktemp -d)
    vol=$dir/volume.ntfs mnt=$dir/mnt
    mkdir -p "$mnt" "$(dirname "$IMAGE")"
    truncate -s "$SIZE" "$IMAGE.tmp"
    bytes=$(stat -c %s "$IMAGE.tmp")
    truncate -s $((bytes - 1048576)) "$vol"
    mkntfs -F -Q -q -s 512 -p 2048 "$vol" >/dev/null 2>&1
    ntfs-3g -o no_detach "$vol" "$mnt" >/dev/null 2>&1 & pid=$!
    for _ in $(seq 200); do grep -q " $mnt " /proc/mounts && break; sleep 0.05; done
    local d=$mnt/ProgramData/Microsoft/Network/Downloader
    local old=$mnt/Windows.old/ProgramData/Microsoft/Network/Downloader
    local tmp=$mnt/Users/analyst/AppData/Local/Temp
    mkdir -p "$d" "$old" "$tmp"
    cp "$SAMPLES/ese/win11/qmgr.db" "$d/qmgr.db"
    cp "$SAMPLES/ese/win10/qmgr.db" "$old/qmgr.db"
    cp "$SAMPLES/ese/win10/qmgr.db" "$tmp/QMGR.DB"
    sync "$tmp/QMGR.DB"
    rm "$tmp/QMGR.DB"
    umount "$mnt"
    wait "$pid" || true
    # The MBR: one NTFS partition (type 0x07) from sector 2048 to the end.
    sectors=$(((bytes - 1048576) / 512))
    python3 - "$IMAGE.tmp" "$sectors" <<'EOF'
import struct, sys
path, sectors = sys.argv[1], int(sys.argv[2])
entry = struct.pack('<B3sB3sII', 0, b'\0\0\0', 7, b'\0\0\0', 2048, sectors)
with open(path, 'r+b') as f:
    f.seek(446); f.write(entry); f.seek(510); f.write(b'\x55\xaa')
EOF
    dd if="$vol" of="$IMAGE.tmp" bs=1M seek=1 conv=sparse,notrunc status=none
    mv "$IMAGE.tmp" "$IMAGE"
    rm -rf "$dir"
}

[[ -f $IMAGE ]] || make_image
bytes=$(stat -c %s "$IMAGE")
echo "image: $IMAGE, $bytes bytes ($(du -h "$IMAGE" | cut -f1) on disk)"
for ((run = 1; run <= RUNS; run++)); do
    log=$(mktemp)
    /usr/bin/time -v "$BIN" parse --carve --format jsonl "$IMAGE" >"$log.out" 2>"$log"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    secs=$(awk -v w="$wall" 'BEGIN { n = split(w, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }')
    records=$(wc -l <"$log.out")
    printf 'run %d: wall %s s, peak RSS %d MB, %.2f GiB/s, %d records\n' "$run" "$secs" \
        $((rss / 1024)) "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { print b / 1073741824 / s }')" \
        "$records"
    rm -f "$log" "$log.out"
done
