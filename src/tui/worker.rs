//! The background worker: opens, hashes, parses and carves the evidence while the UI stays
//! responsive, and talks to it over one channel of owned messages. It runs the same pipeline
//! as `parse` (the driver, [`crate::pipeline::driver`]), so an export equals `parse`'s output.
//!
//! Every message carries the generation id of the load that sent it; the app drops messages
//! of any other generation, so a reopened file never mixes with a stale load. The worker can
//! be cancelled (checked between chunks and phases), and a panic inside it becomes a
//! [`Msg::Failed`] the UI shows, never a broken screen.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::bits::model::BitsInfo;
pub use crate::pipeline::driver::Inputs;

use crate::pipeline::driver;
use crate::pipeline::{self, Options, Sink};

/// The worker thread's name; the TUI's panic hook recognises it.
pub const THREAD_NAME: &str = "bitscope-worker";

/// Records per [`Msg::Records`] batch.
pub const BATCH: usize = 512;

/// Least time between two progress messages.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// What the worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Reading,
    Decoding,
    Carving,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Reading => "reading + sha256",
            Phase::Decoding => "decoding",
            Phase::Carving => "carving",
        }
    }
}

/// One evidence file, as opened: the open handle is shared with the app, whose hex view reads
/// through it (the file is never opened a second time).
#[derive(Debug, Clone)]
pub struct Evidence {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub handle: Option<Arc<crate::input::Evidence>>,
}

impl PartialEq for Evidence {
    fn eq(&self, o: &Self) -> bool {
        self.path == o.path && self.size == o.size && self.sha256 == o.sha256
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    /// Which input (1-based) of how many.
    pub file: usize,
    pub files: usize,
    /// Bytes done and total of the current phase (0/0 when it cannot say).
    pub done: u64,
    pub total: u64,
    /// Records found so far, all inputs.
    pub records: u64,
}

#[derive(Debug, Clone)]
pub enum Msg {
    Opened(Evidence),
    Progress(Progress),
    Records(Vec<BitsInfo>),
    Diagnostic(String),
    Finished { elapsed: Duration, records: u64 },
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Envelope {
    pub generation: u64,
    pub msg: Msg,
}

/// The handle the app keeps: cancel it to stop the worker early.
#[derive(Debug)]
pub struct Worker {
    pub generation: u64,
    cancel: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Worker {
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// What a task uses to talk to the app.
pub struct Reporter {
    generation: u64,
    tx: Sender<Envelope>,
    cancel: Arc<AtomicBool>,
    last_progress: Option<Instant>,
    pub records: u64,
}

/// The task was cancelled or the app is gone: stop quietly.
#[derive(Debug)]
pub struct Stop;

impl Reporter {
    pub fn send(&self, msg: Msg) -> Result<(), Stop> {
        if self.cancelled() {
            return Err(Stop);
        }
        self.tx
            .send(Envelope {
                generation: self.generation,
                msg,
            })
            .map_err(|_| Stop)
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Send progress, at most every [`PROGRESS_EVERY`] unless `force`.
    pub fn progress(&mut self, p: Progress, force: bool) -> Result<(), Stop> {
        if self.cancelled() {
            return Err(Stop);
        }
        let now = Instant::now();
        if !force && self.last_progress.is_some_and(|t| now - t < PROGRESS_EVERY) {
            return Ok(());
        }
        self.last_progress = Some(now);
        self.send(Msg::Progress(p))
    }

    /// Send records in batches of [`BATCH`].
    pub fn records(&mut self, recs: Vec<BitsInfo>) -> Result<(), Stop> {
        let mut it = recs.into_iter();
        loop {
            let batch: Vec<BitsInfo> = it.by_ref().take(BATCH).collect();
            if batch.is_empty() {
                return Ok(());
            }
            self.records += batch.len() as u64;
            self.send(Msg::Records(batch))?;
        }
    }
}

/// Where a worker panic's message is kept for [`spawn_task`] (filled by the TUI's panic hook;
/// without it, the payload is used).
pub static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Run `task` on the worker thread. It ends with exactly one `Finished` or `Failed` (unless
/// cancelled): errors and panics become `Failed`.
pub fn spawn_task<F>(generation: u64, tx: Sender<Envelope>, task: F) -> Worker
where
    F: FnOnce(&mut Reporter) -> Result<(), String> + Send + 'static,
{
    let cancel = Arc::new(AtomicBool::new(false));
    let fail_tx = tx.clone();
    let mut rep = Reporter {
        generation,
        tx,
        cancel: cancel.clone(),
        last_progress: None,
        records: 0,
    };
    let handle = thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            let start = Instant::now();
            let result = panic::catch_unwind(AssertUnwindSafe(|| task(&mut rep)));
            let msg = match result {
                Ok(Ok(())) => Msg::Finished {
                    elapsed: start.elapsed(),
                    records: rep.records,
                },
                Ok(Err(e)) => Msg::Failed(e),
                Err(payload) => {
                    let hooked = LAST_PANIC.lock().ok().and_then(|mut g| g.take());
                    let text = hooked.unwrap_or_else(|| panic_text(payload.as_ref()));
                    Msg::Failed(format!("internal error: the worker panicked: {text}"))
                }
            };
            if !rep.cancelled() {
                let _ = rep.tx.send(Envelope {
                    generation: rep.generation,
                    msg,
                });
            }
        });
    let handle = match handle {
        Ok(h) => Some(h),
        Err(e) => {
            let _ = fail_tx.send(Envelope {
                generation,
                msg: Msg::Failed(format!("cannot start the worker thread: {e}")),
            });
            None
        }
    };
    Worker {
        generation,
        cancel,
        handle,
    }
}

/// Spawn the standard load: every input under each of `paths`, read with sha256, decoded,
/// and carved unless `carve` is false.
pub fn spawn_load(
    paths: Vec<PathBuf>,
    carve: bool,
    generation: u64,
    tx: Sender<Envelope>,
) -> Worker {
    spawn_task(generation, tx, move |rep| {
        let inputs = Inputs::open_all(&paths)?;
        match load(inputs, carve, rep) {
            Ok(()) | Err(LoadError::Stop) => Ok(()),
            Err(LoadError::Fatal(e)) => Err(e),
        }
    })
}

/// [`spawn_load`] on inputs already opened.
pub fn spawn_load_opened(
    inputs: Inputs,
    carve: bool,
    generation: u64,
    tx: Sender<Envelope>,
) -> Worker {
    spawn_task(generation, tx, move |rep| match load(inputs, carve, rep) {
        Ok(()) | Err(LoadError::Stop) => Ok(()),
        Err(LoadError::Fatal(e)) => Err(e),
    })
}

enum LoadError {
    Stop,
    Fatal(String),
}

impl From<Stop> for LoadError {
    fn from(_: Stop) -> Self {
        LoadError::Stop
    }
}

/// The pipeline's sink in the worker: records in batches, warnings as diagnostics, progress
/// as the gauge, each input as it is opened and finished.
struct ToApp<'r> {
    rep: &'r mut Reporter,
    label: String,
    /// The input being run (1-based) of how many: set when the driver opens it; before that
    /// (while it is hashed) the one after the last finished, as the driver runs them in order.
    file: usize,
    files: usize,
    batch: Vec<BitsInfo>,
    /// The last gauge total the pipeline gave (an image's bytes), for the final 100 %.
    total: u64,
    carve: bool,
    failures: Vec<String>,
}

impl ToApp<'_> {
    fn flush(&mut self) -> Result<(), Stop> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.rep.records += batch.len() as u64;
        self.rep.send(Msg::Records(batch))
    }
}

impl Sink for ToApp<'_> {
    fn record(&mut self, record: BitsInfo) -> Result<(), pipeline::Stop> {
        self.batch.push(record);
        if self.batch.len() >= BATCH {
            self.flush().map_err(|_| pipeline::Stop)?;
        }
        Ok(())
    }
    fn warning(&mut self, warning: &pipeline::Diagnostic) -> Result<(), pipeline::Stop> {
        let msg = format!("{}: {warning}", self.label);
        self.rep
            .send(Msg::Diagnostic(msg))
            .map_err(|_| pipeline::Stop)
    }
    fn progress(
        &mut self,
        phase: pipeline::Phase,
        done: u64,
        total: u64,
    ) -> Result<(), pipeline::Stop> {
        // Records found so far reach the table while the gauge moves.
        self.flush().map_err(|_| pipeline::Stop)?;
        let (phase, force) = match phase {
            // Hashing (and checking an image's stored hashes) reports every chunk: let the
            // reporter's rate limit thin them.
            pipeline::Phase::Hashing | pipeline::Phase::Verifying => (Phase::Reading, false),
            pipeline::Phase::Decoding => (Phase::Decoding, done == 0 || done >= total),
            pipeline::Phase::Carving => (Phase::Carving, done == 0 || done >= total),
        };
        if phase != Phase::Reading {
            self.total = total;
        }
        let p = Progress {
            phase,
            file: self.file,
            files: self.files,
            done,
            total: total.max(done),
            records: self.rep.records + self.batch.len() as u64,
        };
        self.rep.progress(p, force).map_err(|_| pipeline::Stop)
    }
    fn opened(&mut self, input: &driver::Opened) -> Result<(), pipeline::Stop> {
        self.label = input.path.display().to_string();
        self.file = input.index;
        self.total = 0;
        self.rep
            .send(Msg::Opened(Evidence {
                path: input.path.clone(),
                size: input.size,
                sha256: input.sha256.clone().unwrap_or_default(),
                handle: Some(Arc::clone(&input.evidence)),
            }))
            .map_err(|_| pipeline::Stop)?;
        // A segmented image's further files: listed (size, sha256) as evidence of their own.
        for p in &input.parts {
            self.rep
                .send(Msg::Opened(Evidence {
                    path: p.path.clone(),
                    size: p.size,
                    sha256: p.sha256.clone().unwrap_or_default(),
                    handle: Some(Arc::clone(&p.evidence)),
                }))
                .map_err(|_| pipeline::Stop)?;
        }
        Ok(())
    }
    /// What an image stores of itself (E01's MD5/SHA-1) goes to the diagnostics (`W`).
    fn container(&mut self, facts: &pipeline::ContainerFacts) -> Result<(), pipeline::Stop> {
        for (alg, hex) in &facts.stored_hashes {
            let msg = format!(
                "{}: {} stores the media's {alg} {hex} (bitscope parse --verify checks it)",
                self.label, facts.kind
            );
            self.rep
                .send(Msg::Diagnostic(msg))
                .map_err(|_| pipeline::Stop)?;
        }
        Ok(())
    }
    fn finished(&mut self, report: &driver::Report) -> Result<(), pipeline::Stop> {
        self.flush().map_err(|_| pipeline::Stop)?;
        if let Some(e) = &report.error {
            self.rep
                .send(Msg::Diagnostic(e.clone()))
                .map_err(|_| pipeline::Stop)?;
            self.failures.push(e.clone());
        }
        let total = match self.total {
            0 => report.size.max(1),
            t => t,
        };
        let phase = if self.carve {
            Phase::Carving
        } else {
            Phase::Decoding
        };
        let p = Progress {
            phase,
            file: report.index,
            files: report.count,
            done: total,
            total,
            records: self.rep.records,
        };
        self.file = report.index + 1;
        self.rep.progress(p, true).map_err(|_| pipeline::Stop)
    }
}

fn load(inputs: Inputs, carve: bool, rep: &mut Reporter) -> Result<(), LoadError> {
    for w in &inputs.warnings {
        rep.send(Msg::Diagnostic(w.clone()))?;
    }
    let files = inputs.files.len();
    let opts = Options {
        carve,
        ..Options::default()
    };
    let mut sink = ToApp {
        rep,
        label: String::new(),
        file: 1,
        files,
        batch: Vec::new(),
        total: 0,
        carve,
        failures: Vec::new(),
    };
    if driver::run_inputs(inputs, &opts, true, &mut sink).is_err() {
        return Err(LoadError::Stop);
    }
    if sink.failures.len() == files {
        return Err(LoadError::Fatal(sink.failures.join("; ")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    fn drain(rx: &std::sync::mpsc::Receiver<Envelope>) -> Vec<Envelope> {
        let mut out = Vec::new();
        while let Ok(e) = rx.recv_timeout(Duration::from_secs(10)) {
            let end = matches!(e.msg, Msg::Finished { .. } | Msg::Failed(_));
            out.push(e);
            if end {
                break;
            }
        }
        out
    }

    #[test]
    fn panic_becomes_failed() {
        let (tx, rx) = channel();
        let _w = spawn_task(7, tx, |_| panic!("boom"));
        let msgs = drain(&rx);
        let last = msgs.last().expect("a message");
        assert_eq!(last.generation, 7);
        match &last.msg {
            Msg::Failed(e) => assert!(e.contains("boom"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn records_are_batched_and_finished() {
        let (tx, rx) = channel();
        let _w = spawn_task(1, tx, |rep| {
            rep.records(vec![BitsInfo::default(); BATCH + 3])
                .map_err(|_| "stopped".to_string())
        });
        let msgs = drain(&rx);
        let sizes: Vec<usize> = msgs
            .iter()
            .filter_map(|e| match &e.msg {
                Msg::Records(r) => Some(r.len()),
                _ => None,
            })
            .collect();
        assert_eq!(sizes, vec![BATCH, 3]);
        assert!(matches!(
            msgs.last().map(|e| &e.msg),
            Some(Msg::Finished { records, .. }) if *records == (BATCH + 3) as u64
        ));
    }

    #[test]
    fn cancelled_worker_stops_sending() {
        let (tx, rx) = channel();
        let w = spawn_task(2, tx, |rep| {
            for _ in 0..1000 {
                if rep.cancelled() {
                    return Ok(());
                }
                thread::sleep(Duration::from_millis(2));
            }
            Err("never cancelled".into())
        });
        w.cancel();
        // Nothing at all arrives after a cancel: not even Finished.
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_err());
    }

    #[test]
    fn missing_file_fails_with_its_name() {
        let (tx, rx) = channel();
        let _w = spawn_load(vec![PathBuf::from("/nonexistent/qmgr.db")], true, 3, tx);
        let msgs = drain(&rx);
        match &msgs.last().expect("msg").msg {
            Msg::Failed(e) => assert!(e.contains("/nonexistent/qmgr.db"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}
