//! Many inputs at once: a case folder of hundreds of host collections runs on all cores, and
//! the sink still hears every input whole and in input order, as [`driver::run_inputs`]
//! would tell it (so the output is the same bytes whatever the thread count).
//!
//! Each worker takes the next input and runs it into a channel of its own; the calling thread
//! replays the channels in input order into the sink. Memory is bounded: a worker starts an
//! input only while it lies within [`WINDOW`] inputs per thread of the one being replayed, and
//! each channel holds at most [`BATCHES`] batches of [`BATCH`] events (a worker ahead of the
//! replay waits), whatever the number of inputs or records.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Condvar, Mutex};

use super::driver::{self, Input, Inputs, Opened, Report};
use super::story::{Companion, StorySink};
use super::{ContainerFacts, Diagnostic, Options, Phase, Sink, Stop};
use crate::bits::model::BitsInfo;

/// Events per hand-over from a worker.
const BATCH: usize = 256;
/// Batches a worker may be ahead within one input.
const BATCHES: usize = 4;
/// Inputs in flight per thread, beyond the one being replayed.
const WINDOW: usize = 2;

/// What a worker heard from the pipeline, to be told to the sink in order.
enum Event {
    /// Boxed: a record is a thousand bytes, the other events a hundred.
    Record(Box<BitsInfo>),
    Diagnostic(Diagnostic),
    Opened(Opened),
    Container(Box<ContainerFacts>),
    Finished(Report),
    /// An event log or hive found in an image (its bytes: a copy, read once per image).
    Companion(String, Companion, Vec<u8>),
}

/// The inputs still to take, each with the channel its events go into.
type Work = Mutex<Vec<Option<(Input, SyncSender<Vec<Event>>)>>>;

/// [`driver::run_inputs`] on `threads` threads (all cores for 0): the same calls on `sink`, in
/// the same order, except progress (inputs overlap, so no gauge can be told).
pub fn run_inputs(
    inputs: Inputs,
    opts: &Options,
    hash: bool,
    threads: usize,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    // The story (event logs, hives) is read first, and joined on the replay's side.
    let opened = driver::open_story(inputs.files, sink)?;
    let count = opened.files.len();
    let opened_count = opened.count();
    let logs = opened.logs;
    let host = opened.host;
    let mut sink = StorySink::new(sink, opened.story);
    let mut reports = if threads <= 1 || count <= 1 {
        driver::run_units(opened.files, opened_count, opts, hash, &mut sink)?
    } else {
        run_parallel(opened.files, opts, hash, threads, &mut sink)?
    };
    driver::close_story(&mut sink, &logs, &host, &mut reports)?;
    Ok(reports)
}

fn run_parallel(
    files: Vec<Input>,
    opts: &Options,
    hash: bool,
    threads: usize,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let count = files.len();
    // The two files of a legacy queue run as one unit, at the first's turn (as in the driver).
    let partner = driver::partners(&files);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..count)
        .map(|_| sync_channel::<Vec<Event>>(BATCHES))
        .unzip();
    let work: Work = Mutex::new(files.into_iter().zip(senders).map(Some).collect());
    let shared = Shared {
        next: AtomicUsize::new(0),
        replayed: Mutex::new(0),
        moved: Condvar::new(),
        stopped: AtomicBool::new(false),
        window: threads.saturating_mul(WINDOW),
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.min(count) {
            scope.spawn(|| worker(&work, &partner, &shared, count, opts, hash));
        }
        // A pair's two reports come at its first file's turn: in input order again.
        let result = replay(receivers, &shared, sink).map(|mut reports| {
            reports.sort_by_key(|r| r.index);
            reports
        });
        if result.is_err() {
            shared.stopped.store(true, Ordering::Relaxed);
        }
        shared.moved.notify_all();
        result
    })
}

struct Shared {
    /// The next input a worker takes.
    next: AtomicUsize,
    /// Inputs replayed so far (a worker waits while its input is past the window).
    replayed: Mutex<usize>,
    moved: Condvar,
    stopped: AtomicBool,
    window: usize,
}

fn worker(
    work: &Work,
    partner: &[Option<usize>],
    shared: &Shared,
    count: usize,
    opts: &Options,
    hash: bool,
) {
    loop {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        if i >= count || shared.stopped.load(Ordering::Relaxed) {
            return;
        }
        if driver::partner_before(partner, i).is_some() {
            continue; // the second file of a pair: its first file's worker takes it
        }
        // Wait until input i lies within the window of the replay.
        {
            let mut replayed = shared.replayed.lock().unwrap_or_else(|e| e.into_inner());
            while i >= replayed.saturating_add(shared.window)
                && !shared.stopped.load(Ordering::Relaxed)
            {
                replayed = shared
                    .moved
                    .wait(replayed)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
        let taken = work
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(i)
            .and_then(Option::take);
        let Some((input, tx)) = taken else { return };
        // The second file of the pair: its channel closes empty (its events go into this one).
        let second = driver::partner_after(partner, i).and_then(|j| {
            let (other, other_tx) = work
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(j)
                .and_then(Option::take)?;
            drop(other_tx);
            Some((j, other))
        });
        let mut sink = Channel {
            tx,
            batch: Vec::with_capacity(BATCH),
            stopped: &shared.stopped,
        };
        let ran = driver::run_unit(i, input, second, count, opts, hash, &mut sink);
        if ran.is_err() || sink.flush().is_err() {
            return;
        }
    }
}

/// Tell the sink each input's events, in input order.
fn replay(
    receivers: Vec<Receiver<Vec<Event>>>,
    shared: &Shared,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let mut reports = Vec::with_capacity(receivers.len());
    for rx in receivers {
        // Ends when the worker drops its sender: the input is done.
        for batch in rx {
            for event in batch {
                match event {
                    Event::Record(r) => sink.record(*r)?,
                    Event::Diagnostic(w) => sink.warning(&w)?,
                    Event::Opened(o) => sink.opened(&o)?,
                    Event::Companion(label, kind, bytes) => sink.companion(&label, kind, &bytes)?,
                    Event::Container(c) => sink.container(&c)?,
                    Event::Finished(r) => {
                        sink.finished(&r)?;
                        reports.push(r);
                    }
                }
            }
        }
        let mut replayed = shared.replayed.lock().unwrap_or_else(|e| e.into_inner());
        *replayed = replayed.saturating_add(1);
        shared.moved.notify_all();
    }
    Ok(reports)
}

/// A worker's sink: events in batches into its input's channel.
struct Channel<'a> {
    tx: SyncSender<Vec<Event>>,
    batch: Vec<Event>,
    stopped: &'a AtomicBool,
}

impl Channel<'_> {
    fn push(&mut self, e: Event) -> Result<(), Stop> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(Stop);
        }
        self.batch.push(e);
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), Stop> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.tx.send(full).map_err(|_| Stop)
    }
}

impl Sink for Channel<'_> {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.push(Event::Record(Box::new(record)))
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.push(Event::Diagnostic(warning.clone()))
    }
    fn progress(&mut self, _: Phase, _: u64, _: u64) -> Result<(), Stop> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(Stop);
        }
        Ok(())
    }
    fn opened(&mut self, input: &Opened) -> Result<(), Stop> {
        self.push(Event::Opened(input.clone()))
    }
    fn finished(&mut self, report: &Report) -> Result<(), Stop> {
        self.push(Event::Finished(report.clone()))
    }
    fn companion(&mut self, label: &str, kind: Companion, bytes: &[u8]) -> Result<(), Stop> {
        self.push(Event::Companion(label.to_string(), kind, bytes.to_vec()))
    }
    fn container(&mut self, facts: &ContainerFacts) -> Result<(), Stop> {
        self.push(Event::Container(Box::new(facts.clone())))
    }
}
