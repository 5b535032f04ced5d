//! The story's cost: `parse` of a 20,000-job qmgr.db (`bitscope-gen ese --jobs 20000`) alone,
//! then beside its Bits-Client log of 100,000 events (events 3, 59, 60, 4 and 209 for every
//! job, written by the generator), best of three each. The issue's bound: the log adds at most
//! 1.5x to the time.

use std::path::Path;
use std::time::Instant;

use bitscope::bits::model::BitsInfo;
use bitscope::gen::evtx::{bits_event, write, Val};
use bitscope::gen::{generate, EseOptions};
use bitscope::pipeline::driver::{run_inputs, Inputs};
use bitscope::pipeline::{Diagnostic, Options, Sink, Stop};
use bitscope::util::guid::Guid;

/// The allocator of the `bitscope` binary (src/main.rs), so the figures are the binary's:
/// under glibc's malloc a third of this bench's time was malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Collect(Vec<BitsInfo>, usize);

impl Sink for Collect {
    fn record(&mut self, r: BitsInfo) -> Result<(), Stop> {
        self.1 += r.story.len();
        self.0.push(r);
        Ok(())
    }
    fn warning(&mut self, _: &Diagnostic) -> Result<(), Stop> {
        Ok(())
    }
}

fn parse(dir: &Path) -> (f64, usize, usize) {
    let mut best = f64::MAX;
    let mut out = (0, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let mut sink = Collect(Vec::new(), 0);
        run_inputs(
            Inputs::find(&[dir.to_path_buf()]),
            &Options::default(),
            false,
            &mut sink,
        )
        .unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        out = (sink.0.len(), sink.1);
    }
    (best, out.0, out.1)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/story");
    let (alone, beside) = (root.join("alone"), root.join("beside"));
    if !beside.join("events.evtx").exists() {
        std::fs::create_dir_all(&alone).unwrap();
        std::fs::create_dir_all(&beside).unwrap();
        let db = generate(&EseOptions {
            jobs: 20_000,
            files_per_job: 1,
            deleted: 0,
            seed: 20_000,
            ..EseOptions::default()
        })
        .unwrap();
        std::fs::write(alone.join("qmgr.db"), &db.bytes).unwrap();
        std::fs::write(beside.join("qmgr.db"), &db.bytes).unwrap();
        let mut sink = Collect(Vec::new(), 0);
        run_inputs(
            Inputs::find(std::slice::from_ref(&alone)),
            &Options::default(),
            false,
            &mut sink,
        )
        .unwrap();
        let mut events = Vec::new();
        let s = |v: &str| Val::Str(v.to_string());
        for r in &sink.0 {
            let Some(id) = Guid::parse(&r.job_id) else {
                continue;
            };
            let t = bitscope::evtx::filetime_of(&r.created).unwrap_or(133_000_000_000_000_000);
            let id = Val::Guid(id.0);
            let title = s(&r.job_name);
            let url = s(&r.url);
            events.push(bits_event(
                3,
                t,
                "WS",
                vec![
                    ("jobTitle", title.clone()),
                    ("jobId", id.clone()),
                    ("jobOwner", s("WS\\user")),
                    ("processPath", s(r"C:\Windows\System32\svchost.exe")),
                    ("processId", Val::U32(1200)),
                ],
            ));
            events.push(bits_event(
                209,
                t + 1,
                "WS",
                vec![
                    ("jobName", title.clone()),
                    ("jobId", id.clone()),
                    ("isRoaming", Val::U32(0)),
                ],
            ));
            let transfer = |hr: Option<u32>| {
                let mut v = vec![
                    ("transferId", Val::Guid([1; 16])),
                    ("name", title.clone()),
                    ("Id", id.clone()),
                    ("url", url.clone()),
                    ("peer", s("")),
                ];
                if let Some(hr) = hr {
                    v.push(("hr", Val::U32(hr)));
                }
                v.extend([
                    ("fileTime", Val::FileTime(t)),
                    ("bytesTotal", Val::U64(1000)),
                    ("bytesTransferred", Val::U64(1000)),
                ]);
                v
            };
            events.push(bits_event(59, t + 2, "WS", transfer(None)));
            events.push(bits_event(60, t + 3, "WS", transfer(Some(0))));
            events.push(bits_event(
                4,
                t + 4,
                "WS",
                vec![
                    ("User", s("WS\\user")),
                    ("jobTitle", title.clone()),
                    ("jobId", id.clone()),
                    ("jobOwner", s("WS\\user")),
                    ("fileCount", Val::U32(1)),
                ],
            ));
        }
        std::fs::write(beside.join("events.evtx"), write(&events, 1)).unwrap();
    }
    let log = std::fs::metadata(beside.join("events.evtx")).map_or(0, |m| m.len());
    let t = Instant::now();
    let events = bitscope::evtx::read(&std::fs::read(beside.join("events.evtx")).unwrap())
        .events
        .len();
    let read = t.elapsed().as_secs_f64();
    let bytes = std::fs::read(beside.join("events.evtx")).unwrap();
    let t = Instant::now();
    let evtx_log = bitscope::evtx::read(&bytes);
    let t_read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut story = bitscope::bits::story::Story::default();
    story.add_log("events.evtx", evtx_log);
    let t_add = t.elapsed().as_secs_f64();
    let mut sink = Collect(Vec::new(), 0);
    run_inputs(
        Inputs::find(std::slice::from_ref(&alone)),
        &Options::default(),
        false,
        &mut sink,
    )
    .unwrap();
    let t = Instant::now();
    for r in sink.0.iter_mut() {
        story.enrich(r);
    }
    let t_enrich = t.elapsed().as_secs_f64();
    println!("story: phases: read {t_read:.2} s, decode {t_add:.2} s, join 20,000 records {t_enrich:.2} s");
    let (a, n, _) = parse(&alone);
    let (b, m, facts) = parse(&beside);
    println!("story: 20,000-job qmgr.db alone: {a:.2} s, {n} records");
    println!("story: beside a {events}-event Bits-Client log ({} MB; read alone in {read:.2} s): {b:.2} s, {m} records, {facts} facts", log >> 20);
    println!("story: ratio {:.2} (bound 1.5)", b / a);
}
