//! The event log, hive and USN journal readers on hostile bytes: the real samples mutated
//! (bytes flipped, sizes and offsets set huge, truncated, chunks copied over each other). Every
//! case must end quickly, in bounded heap, without a panic, even one caught inside.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bitscope::util::rng::Rng;
use common::alloc::{LIVE, PEAK};

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// One mutation of `base`: a few random bytes, a huge u32, a truncation, or a block copied.
fn mutate(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..rng.range(1, 8) {
        let len = b.len();
        if len < 8 {
            break;
        }
        match rng.below(5) {
            0 => {
                let at = rng.index(len);
                b[at] = rng.next_u32() as u8;
            }
            1 => {
                let at = rng.index(len - 4);
                let v = *rng
                    .pick(&[0u32, 1, 0x7fff_ffff, u32::MAX, 0x1_0000, 0xffff])
                    .unwrap();
                b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            2 => b.truncate(rng.index(len)),
            3 => {
                let (from, to, n) = (rng.index(len), rng.index(len), rng.range(1, 4096) as usize);
                let n = n.min(len - from).min(len - to);
                let block = b[from..from + n].to_vec();
                b[to..to + n].copy_from_slice(&block);
            }
            _ => {
                // A small field near the start of a structure (headers matter most).
                let at = rng.index(len.min(8192) - 2);
                b[at] ^= 1 << rng.below(8);
            }
        }
    }
    b
}

/// Run `case` on `cases` mutations of the sample `rel`: each within `limit` and 64 MiB of heap.
fn hostile(rel: &str, cases: u64, seed: u64, case: &dyn Fn(&[u8]) -> Result<usize, String>) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(path) = common::sample(rel) else {
        return;
    };
    let base = std::fs::read(path).unwrap();
    let mut rng = Rng::new(seed);
    let mut worst = Duration::ZERO;
    let mut peak_max = 0;
    let mut read = 0;
    for i in 0..cases {
        let bytes = mutate(&base, &mut rng);
        let live = LIVE.load(Ordering::Relaxed);
        PEAK.store(live, Ordering::Relaxed);
        let start = Instant::now();
        let outcome = case(&bytes);
        let took = start.elapsed();
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(live);
        match outcome {
            Ok(n) => read += n,
            Err(e) => panic!("{rel} case {i}: {e}"),
        }
        assert!(took < Duration::from_secs(5), "{rel} case {i}: {took:?}");
        assert!(peak < 64 << 20, "{rel} case {i}: {peak} bytes of heap");
        worst = worst.max(took);
        peak_max = peak_max.max(peak);
    }
    println!(
        "{rel}: {cases} mutations, {read} items read from them, slowest {worst:?}, peak heap {peak_max} bytes"
    );
}

#[test]
fn hostile_event_logs() {
    for (i, rel) in [
        "evtx/bits-client-win7-bitsadmin-persistence.evtx",
        "evtx/bits-client-win10-desktopimgdownldr.evtx",
        "evtx/sysmon-bits-notify-execution.evtx",
    ]
    .iter()
    .enumerate()
    {
        hostile(rel, 2000, 19 + i as u64, &|b| {
            let log = bitscope::evtx::read(b);
            let events = bitscope::bits::events::decode_log(&log);
            match log.warnings.iter().find(|w| w.what.contains("panic")) {
                Some(w) => Err(w.what.clone()),
                None => Ok(events.bits.len() + events.runs.len()),
            }
        });
    }
}

#[test]
fn hostile_hives() {
    hostile("registry/SAM", 1500, 7, &|b| {
        let Ok(hive) = bitscope::hive::Hive::open(b) else {
            return Ok(0);
        };
        let sam = bitscope::hive::accounts::sam(&hive);
        let profiles = bitscope::hive::accounts::profiles(&hive);
        // A walk of the first two levels, every value read.
        let root = hive.root();
        let mut n = hive.values(&root).len();
        for k in hive.subkeys(&root) {
            for k in hive.subkeys(&k) {
                n += hive.values(&k).len();
            }
        }
        Ok(sam.accounts.len() + profiles.len() + n.min(1))
    });
}

#[test]
fn hostile_usn_journals() {
    hostile("ntfs/UsnJrnl.raw", 3000, 11, &|b| {
        Ok(bitscope::container::usn::records(b, 0).len())
    });
}
