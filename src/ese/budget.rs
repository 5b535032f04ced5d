//! The long-value budget of an open database, and its cache of assembled long values.
//!
//! Why: a long value is stored as chunks, and a compressed (Xpress) chunk of 14 bytes on disk
//! may declare 65,535 bytes of output; 4,096 such chunks make a 256 MiB value out of 57 KiB of
//! file. The per-value limit ([`super::database::MAX_VALUE`]) bounds one value, not how many
//! values there are nor how many rows point at one. So each open database gets one budget for
//! every byte the reader decompresses or reassembles on its callers' behalf:
//! `BUDGET_PER_FILE_BYTE × bytes + BUDGET_BASE`, at most [`BUDGET_CEILING`], where `bytes` are
//! the bytes the file holds: a file padded with `truncate -s 8G` holds the few MB it was
//! written with (its allocated blocks), not 8 GiB, and gets the budget of those (the caller
//! says how many: [`super::Database::open_holding`]).
//!
//! What is charged (so that the cache plus every copy handed out stays under the budget):
//! * a shared long value (reference count above 1) assembled for the first time: its size
//!   (that copy stays in the cache); a value no other record shares is not cached at all;
//! * every copy of a long value handed to a caller, fresh or from the cache: its length;
//! * an inline compressed column value: its decompressed length.
//!
//! Nothing is given back except the unused part of a reservation when an assembly or a
//! decompression fails. A request the budget cannot cover is refused with a reason starting
//! "over budget" (the caller shows it as `Value::Undecoded`) and the database records a warning.
//! Shared values are cached by (long-value tree root, long-value id), and errors of any value,
//! so a value many rows share is assembled once and a bad value costs its work once. The cache holds only
//! charged bytes, so it is bounded by the same budget.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::util::bytes::hex;
use crate::util::diag::Diagnostic;

/// Bytes of budget per byte of file: room for legitimately compressed values (Xpress rarely
/// gains more than 4×) with every value both cached and handed out once.
pub const BUDGET_PER_FILE_BYTE: u64 = 8;
/// Budget every database gets whatever its size, so small files with a few big values work.
pub const BUDGET_BASE: u64 = 64 << 20;
/// No database gets more, whatever it holds (2 GiB is five times every long value of a
/// 100,000-job qmgr.db).
pub const BUDGET_CEILING: u64 = 2 << 30;
/// Over-budget warnings kept word for word; later ones are only counted.
const MAX_BUDGET_WARNINGS: usize = 32;

/// The budget of one file holding `held` bytes.
pub fn budget_for(held: u64) -> u64 {
    held.saturating_mul(BUDGET_PER_FILE_BYTE)
        .saturating_add(BUDGET_BASE)
        .min(BUDGET_CEILING)
}

/// Cache key: the root page of the long-value tree, and the long-value id as in its key.
type CacheKey = (u32, Vec<u8>);

/// Shared by a database and every [`super::LongValues`] it hands out (hence the mutex: the
/// database may be read from several threads).
#[derive(Debug)]
pub struct LvPool {
    limit: u64,
    state: Mutex<PoolState>,
}

#[derive(Debug, Default)]
struct PoolState {
    used: u64,
    cache: HashMap<CacheKey, Result<Vec<u8>, String>>,
    stats: BudgetStats,
    warnings: Vec<Diagnostic>,
    warnings_dropped: usize,
}

/// How much of the budget went where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetStats {
    pub limit: u64,
    pub used: u64,
    /// Long values assembled (cache misses that were decoded).
    pub assembled_values: u64,
    pub assembled_bytes: u64,
    /// Bytes handed to callers (long values, fresh or cached, and inline decompressions).
    pub served_bytes: u64,
    /// Requests refused for want of budget.
    pub refused: u64,
}

impl LvPool {
    /// The pool of a database whose file holds `held` bytes.
    pub fn new(held: u64) -> LvPool {
        LvPool {
            limit: budget_for(held),
            state: Mutex::new(PoolState::default()),
        }
    }

    /// A poisoned lock only means another thread panicked mid-update of counters; the
    /// counters are still meaningful, so carry on with them.
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Charge `n` bytes for `what`; refused (with a warning) when the budget cannot cover it.
    pub fn reserve(&self, n: u64, what: &str) -> Result<(), String> {
        self.charge(&mut self.lock(), n, what)
    }

    fn charge(&self, s: &mut PoolState, n: u64, what: &str) -> Result<(), String> {
        let after = s.used.saturating_add(n);
        if after <= self.limit {
            s.used = after;
            return Ok(());
        }
        s.stats.refused = s.stats.refused.saturating_add(1);
        let reason = format!(
            "over budget: {what} needs {n} bytes but {} of the database's {}-byte long-value budget are spent",
            s.used, self.limit
        );
        if s.warnings.len() < MAX_BUDGET_WARNINGS {
            s.warnings.push(Diagnostic::new(reason.clone()));
        } else {
            s.warnings_dropped = s.warnings_dropped.saturating_add(1);
        }
        Err(reason)
    }

    /// Give back the unused part of a reservation.
    pub fn refund(&self, n: u64) {
        let mut s = self.lock();
        s.used = s.used.saturating_sub(n);
    }

    /// Count bytes handed to a caller (already reserved).
    pub fn served(&self, n: usize) {
        let mut s = self.lock();
        s.stats.served_bytes = s.stats.served_bytes.saturating_add(n as u64);
    }

    /// The cached result for a long value, as a copy charged to the budget. `offset` is where
    /// the value's root node lies, for the warning.
    pub fn cached(&self, tree: u32, id: &[u8], offset: u64) -> Option<Result<Vec<u8>, String>> {
        let mut s = self.lock();
        let len = match s.cache.get(&(tree, id.to_vec()))? {
            Err(e) => return Some(Err(e.clone())),
            Ok(v) => v.len(),
        };
        let what = format!("long value {} (offset {offset:#x}), copied again", hex(id));
        if let Err(e) = self.charge(&mut s, len as u64, &what) {
            return Some(Err(e));
        }
        s.stats.served_bytes = s.stats.served_bytes.saturating_add(len as u64);
        s.cache.get(&(tree, id.to_vec())).cloned()
    }

    /// Remember the result of assembling a long value; `bytes` were charged once for the cache.
    /// Count a value assembled and handed out without being cached (not shared).
    pub fn count_assembled(&self, len: usize) {
        let mut s = self.lock();
        s.stats.assembled_values = s.stats.assembled_values.saturating_add(1);
        s.stats.assembled_bytes = s.stats.assembled_bytes.saturating_add(len as u64);
    }

    pub fn store(&self, tree: u32, id: &[u8], result: &Result<Vec<u8>, String>) {
        let mut s = self.lock();
        if let Ok(v) = result {
            s.stats.assembled_values = s.stats.assembled_values.saturating_add(1);
            s.stats.assembled_bytes = s.stats.assembled_bytes.saturating_add(v.len() as u64);
        }
        // An error string is small; charging it keeps the cache inside the budget all the same.
        if let Err(e) = result {
            let after = s.used.saturating_add(e.len() as u64);
            if after > self.limit {
                return;
            }
            s.used = after;
        }
        s.cache.insert((tree, id.to_vec()), result.clone());
    }

    pub fn stats(&self) -> BudgetStats {
        let s = self.lock();
        BudgetStats {
            limit: self.limit,
            used: s.used,
            ..s.stats
        }
    }

    /// The warnings so far: each refusal, then a count of those not kept word for word.
    pub fn warnings(&self) -> Vec<Diagnostic> {
        let s = self.lock();
        let mut w = s.warnings.clone();
        if s.warnings_dropped > 0 {
            w.push(Diagnostic::new(format!(
                "{} more long-value requests refused as over budget",
                s.warnings_dropped
            )));
        }
        w
    }
}
