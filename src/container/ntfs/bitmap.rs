//! `$Bitmap` (MFT entry 6): one bit per cluster of the volume, set when the cluster is in use.
//! Read run by run in 1 MiB pieces; the free clusters come out as maximal runs of the disk.

use super::file::{self, StreamData};
use super::record::Record;
use super::volume::Vol;

/// `$Bitmap`'s MFT entry.
const BITMAP: u64 = 6;
/// Bytes of the bitmap read at a time.
const PIECE: usize = 1 << 20;

/// Free runs as (disk offset, length), and whether the list was cut at `max` runs.
pub fn free_runs(vol: &Vol, max: usize) -> Result<(Vec<(u64, u64)>, bool), String> {
    let cluster = vol.boot.cluster;
    let clusters = vol.len.checked_div(cluster).unwrap_or(0);
    let mut rec = vec![0u8; vol.record_len()];
    vol.read_record(BITMAP, &mut rec)?;
    let rec = Record::new(&rec).ok_or("$Bitmap's record has no FILE signature")?;
    let f = file::gather(vol, BITMAP, &rec);
    let data = f
        .streams
        .into_iter()
        .find(|s| s.name.is_empty())
        .map(|s| s.data)
        .ok_or("$Bitmap has no $DATA")?;
    let want = clusters.div_ceil(8);
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut c = 0u64;
    let mut truncated = false;
    let mut take = |bytes: &[u8], c: &mut u64| -> bool {
        for byte in bytes {
            for bit in 0..8 {
                if *c >= clusters {
                    return false;
                }
                if byte >> bit & 1 == 0 {
                    let at = vol.base.saturating_add(c.saturating_mul(cluster));
                    let full = runs.len() >= max;
                    match runs.last_mut() {
                        Some((start, l)) if start.saturating_add(*l) == at => {
                            *l = l.saturating_add(cluster)
                        }
                        _ if full => {
                            truncated = true;
                            return false;
                        }
                        _ => runs.push((at, cluster)),
                    }
                }
                *c = c.saturating_add(1);
            }
        }
        true
    };
    match data {
        StreamData::Resident(b) => {
            let n = usize::try_from(want).unwrap_or(usize::MAX).min(b.len());
            take(b.get(..n).unwrap_or_default(), &mut c);
        }
        StreamData::NonResident { runs: r, size, .. } => {
            let mut buf = vec![0u8; PIECE];
            let total = want.min(size);
            'runs: for run in r {
                let from = run.vcn.saturating_mul(cluster);
                let len = run.len.saturating_mul(cluster);
                let mut done = 0u64;
                while done < len && from.saturating_add(done) < total {
                    let n = usize::try_from(
                        len.saturating_sub(done)
                            .min(total.saturating_sub(from).saturating_sub(done)),
                    )
                    .unwrap_or(PIECE)
                    .min(PIECE);
                    let dst = buf.get_mut(..n).unwrap_or_default();
                    match run.lcn {
                        Some(l) => {
                            vol.read_exact(l.saturating_mul(cluster).saturating_add(done), dst)?
                        }
                        None => dst.fill(0),
                    }
                    if !take(dst, &mut c) {
                        break 'runs;
                    }
                    done = done.saturating_add(n as u64);
                }
            }
        }
    }
    Ok((runs, truncated))
}
