//! `bitscope-gen legacy` and `bitscope-gen image`: legacy queues and raw images with planted
//! records, built from the real pieces in the samples folder, each with its truth file.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use super::rng::Rng;
use super::{create, io_err, truth_path, GenError};
use crate::gen::legacy::{build_queue_layout, JobSpec, Pieces, Preamble, QueueSpec, Record};

fn read(samples: &Path, rel: &str) -> Result<Vec<u8>, GenError> {
    let p = samples.join(rel);
    std::fs::read(&p).map_err(io_err(&p))
}

fn write_truth(out: &Path, truth: &Value, force: bool) -> Result<(), GenError> {
    let tpath = truth_path(out);
    let mut f = create(&tpath, force)?;
    let text = serde_json::to_vec_pretty(truth).map_err(|e| GenError::Internal(e.to_string()))?;
    f.write_all(&text).map_err(io_err(&tpath))
}

/// A legacy queue of `jobs` live jobs and `deleted` deleted ones in its slack, all copies of
/// the real `variant` record ("win7" or "win10"), made distinct as `legacy_gen` does.
pub fn write_legacy(
    samples: &Path,
    jobs: u8,
    deleted: u8,
    variant: &str,
    out: &Path,
    force: bool,
) -> Result<Value, GenError> {
    let empty = read(samples, "legacy/win10-early/empty-queue.dat")?;
    let win7 = read(samples, "legacy/job-records/win7/system-notify-cmd.job")?;
    let win10 = read(
        samples,
        "legacy/job-records/win10-early/system-notify-cmd.job",
    )?;
    let pieces =
        Pieces::new(&empty, &win7, &win10).map_err(|e| GenError::Invalid(e.to_string()))?;
    let (record, preamble) = match variant {
        "win7" => (Record::Win7, Preamble::Win7),
        "win10" => (Record::EarlyWin10, Preamble::EarlyWin10),
        other => {
            return Err(GenError::Invalid(format!(
                "unknown variant {other:?} (win7 or win10)"
            )))
        }
    };
    if u16::from(jobs) + u16::from(deleted) > 255 {
        return Err(GenError::Invalid(
            "at most 255 jobs and deleted jobs in all".into(),
        ));
    }
    let live: Vec<JobSpec> = (0..jobs).map(|n| JobSpec::copy(record, n)).collect();
    let gone: Vec<JobSpec> = (jobs..jobs + deleted)
        .map(|n| JobSpec::copy(record, n))
        .collect();
    let built = build_queue_layout(&QueueSpec {
        pieces,
        preamble,
        jobs: &live,
        deleted: &gone,
    });
    let placed = |v: &[crate::gen::legacy::PlacedJob]| -> Vec<Value> {
        v.iter()
            .map(|p| json!({"job_id": p.job_id.to_string(), "job_name": p.name, "offset": p.offset, "length": p.len}))
            .collect()
    };
    let truth = json!({
        "generator": "bitscope-gen legacy",
        "variant": variant,
        "file_size": built.bytes.len(),
        "jobs": placed(&built.jobs),
        "deleted": placed(&built.deleted),
    });
    let mut f = create(out, force)?;
    f.write_all(&built.bytes).map_err(io_err(out))?;
    write_truth(out, &truth, force)?;
    Ok(truth)
}

/// A raw image of `size` bytes (pseudo-random first half, zeros after) with `plant` records
/// at odd offsets, some straddling 1 MiB boundaries: Win10+ job and file blobs and legacy
/// jobs, each made distinct. Written block by block: memory stays small for any size.
pub fn write_image(
    samples: &Path,
    size: u64,
    plant: usize,
    seed: u64,
    out: &Path,
    force: bool,
) -> Result<Value, GenError> {
    let kinds: [(&str, Vec<u8>, usize); 4] = [
        ("job", read(samples, "blobs/win10/job.raw")?, 0x20),
        ("file", read(samples, "blobs/win10/file.raw")?, 0x308),
        (
            "legacy-win7",
            read(samples, "legacy/job-records/win7/system-notify-cmd.job")?,
            0x20,
        ),
        (
            "legacy-win10",
            read(
                samples,
                "legacy/job-records/win10-early/system-notify-cmd.job",
            )?,
            0x20,
        ),
    ];
    let mut rng = Rng::new(seed);
    let slot = size / (plant as u64 + 1);
    if plant > 0 && slot < 8192 {
        return Err(GenError::Invalid(
            "image too small for that many planted records".into(),
        ));
    }
    // (offset, bytes, kind): one per slot, every third one just before a 1 MiB line.
    let mut planted: Vec<(u64, Vec<u8>, &str)> = Vec::new();
    for i in 0..plant {
        let (kind, blob, id_at) = &kinds[i % kinds.len()];
        let mut b = blob.clone();
        let n = (i as u64).to_le_bytes();
        for (k, v) in n.iter().enumerate().take(4) {
            if let Some(x) = b.get_mut(id_at + 8 + k) {
                *x ^= v.wrapping_add(1);
            }
        }
        let base = slot * (i as u64 + 1);
        let at = if i % 3 == 0 {
            (base | 0xFFFFF).saturating_sub(b.len() as u64 / 2)
        } else {
            (base + rng.next_u64() % 4096) | 1
        };
        planted.push((at.min(size.saturating_sub(b.len() as u64)), b, kind));
    }
    let mut f = std::io::BufWriter::new(create(out, force)?);
    let mut block = vec![0u8; 1 << 20];
    let mut pos = 0u64;
    while pos < size {
        let len = (size - pos).min(block.len() as u64) as usize;
        let buf = &mut block[..len];
        if pos < size / 2 {
            for c in buf.chunks_mut(8) {
                let v = rng.next_u64().to_le_bytes();
                c.copy_from_slice(&v[..c.len()]);
            }
        } else {
            buf.fill(0);
        }
        for (at, b, _) in &planted {
            let (s, e) = (*at, *at + b.len() as u64);
            if e <= pos || s >= pos + len as u64 {
                continue;
            }
            for (k, byte) in b.iter().enumerate() {
                let o = s + k as u64;
                if o >= pos && o < pos + len as u64 {
                    buf[(o - pos) as usize] = *byte;
                }
            }
        }
        f.write_all(buf).map_err(io_err(out))?;
        pos += len as u64;
    }
    f.flush().map_err(io_err(out))?;
    let truth = json!({
        "generator": "bitscope-gen image",
        "size": size,
        "seed": seed,
        "planted": planted.iter().map(|(at, b, kind)| json!({"kind": kind, "offset": at, "length": b.len(), "sha256": super::sha256::sha256_hex(b)})).collect::<Vec<_>>(),
    });
    write_truth(out, &truth, force)?;
    Ok(truth)
}
