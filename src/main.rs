//! The `bitscope` command line.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bitscope::ese::Database;
use bitscope::gen::demo;
use bitscope::output;
use bitscope::pipeline::sink::Note;
use bitscope::pipeline::{self, driver};
use bitscope::util::text::{escape, has_hidden};

/// mimalloc instead of the system allocator: the record path makes and drops a few dozen
/// short strings per record, and glibc's malloc/free took over a quarter of
/// `parse --carve`'s time (issue 23's profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Explore Windows BITS queue databases (qmgr.db, qmgr0.dat/qmgr1.dat).
///
/// Exit codes: 0 success, 1 the input could not be read or is not what was expected,
/// 2 bad command line.
#[derive(Parser)]
#[command(name = "bitscope", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct Cli {
    /// Open the terminal explorer on every PATH at once: a qmgr.db, a qmgr0/1.dat, a
    /// Downloader folder, a folder of hosts, or any file to carve. `?` in the explorer lists
    /// every key.
    #[arg(required_unless_present = "case", value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Explorer: reopen a case saved with `w` (filter, marks, columns, sorts, notes, tags);
    /// without PATH, on the paths the case names.
    #[arg(long, value_name = "FILE")]
    case: Option<PathBuf>,
    /// Explorer: read live records only, do not carve free space.
    #[arg(long)]
    no_carve: bool,
    /// Explorer: show times in ZONE (`local`, or an offset such as +02:00) instead of UTC;
    /// `u` toggles between UTC and it. Exports stay UTC.
    #[arg(long, value_name = "ZONE", value_parser = bitscope::tui::zone::Zone::parse)]
    tz: Option<bitscope::tui::zone::Zone>,
    /// Explorer: tune triage with a TOML file (a severity per rule, `off` included, and an
    /// allowlist of URL hosts and local paths; see assets/triage.toml, the defaults). A bad
    /// file: one line on stderr and exit 2.
    #[arg(long, value_name = "FILE")]
    triage: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Decode BITS jobs and files to BitsInfo records (json, jsonl or csv).
    ///
    /// PATH is a qmgr.db, a qmgr0.dat/qmgr1.dat, or a folder (every qmgr.db and qmgr*.dat
    /// under it). Warnings go to stderr, never into the data. Exit codes: 0 every input was
    /// decoded; 1 an input could not be read or is not a BITS queue (the others are still
    /// written); 2 bad command line (or --live off Windows).
    Parse {
        #[arg(required_unless_present = "live")]
        paths: Vec<PathBuf>,
        /// Read this running Windows system's BITS queue (C:\ProgramData\Microsoft\Network\
        /// Downloader) through its raw volume \\.\C: (administrator rights), else by opening
        /// the files.
        #[arg(long, conflicts_with = "paths")]
        live: bool,
        #[arg(long, value_enum, default_value = "json")]
        format: output::bits::Format,
        /// Write to FILE (atomically; never over an input) instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also carve deleted records from free space.
        #[arg(long)]
        carve: bool,
        /// How much provenance each record carries: `record` (evidence, offset, length,
        /// container, ESE page/tag, long-value extents, copies) or `fields` (also the byte
        /// range of every field).
        #[arg(long, value_enum, default_value = "record")]
        provenance: Provenance,
        /// Check the media hashes an image stores (E01: MD5, SHA-1) by reading its whole
        /// media; a mismatch fails the input (exit 1), its records still written.
        #[arg(long)]
        verify: bool,
        /// Inputs decoded at once (0: one per core). The output is the same whatever the
        /// number: each input's records in input order.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Check a triage file (see the explorer's --triage; exit 2 when it is wrong). The
        /// records `parse` writes carry no triage, so they are the same with it or without.
        #[arg(long, value_name = "FILE")]
        triage: Option<PathBuf>,
    },
    /// Run a TOML collection (the artemis `bits` artifact format; see assets/collect-bits.toml).
    Collect {
        #[arg(long)]
        config: PathBuf,
    },
    /// Open the explorer on built-in demo evidence: two hosts, a T1197 persistence job,
    /// deleted jobs to carve, a job with hostile text and a legacy queue (made at start, the
    /// same bytes every run; nothing is downloaded).
    ///
    /// With --write DIR, write those files into DIR instead (a new or empty folder, with a
    /// marker saying the data is synthetic) to try the other commands on. A folder named `demo` opens as `bitscope ./demo`.
    Demo {
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
    /// Inspect an ESE database directly (no BITS decoding).
    #[command(subcommand)]
    Ese(EseCommand),
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Provenance {
    Record,
    Fields,
}

#[derive(Subcommand)]
enum EseCommand {
    /// Header facts, state, page size, tables with columns and row counts, warnings.
    Info {
        path: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Every row of every table (or one table) as JSON Lines.
    Dump {
        path: PathBuf,
        #[arg(long)]
        table: Option<String>,
    },
}

fn main() -> ExitCode {
    raise_open_file_limit();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            // Messages name files and quote evidence: never raw to the terminal. The error
            // types escape the names they hold; anything still hidden is escaped here.
            eprintln!("bitscope: {}", shown(&msg));
            ExitCode::from(1)
        }
    }
}

/// A segmented image may have thousands of segment files, each held open while it is read:
/// the soft limit on open files goes up to the hard one (1,024 is common; an E01 can have
/// 14,971 segments).
fn raise_open_file_limit() {
    #[cfg(unix)]
    #[allow(unsafe_code)]
    // SAFETY: getrlimit/setrlimit on a plain struct; failure leaves the limit as it was.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// Text that is escaped already, or raw text without hidden characters, as it may be shown:
/// escaped once, never twice.
fn shown(msg: &str) -> std::borrow::Cow<'_, str> {
    if has_hidden(msg) {
        escape(msg)
    } else {
        std::borrow::Cow::Borrowed(msg)
    }
}

/// The triage file of `--triage`, read before anything else (and before the explorer takes
/// the terminal); a wrong one is a usage error: one line and exit 2.
fn tuning(path: Option<&std::path::Path>) -> Option<&'static bitscope::bits::tuning::Tuning> {
    let path = path?;
    match bitscope::bits::tuning::Tuning::load(path) {
        // Read once and kept for the whole run.
        Ok(t) => Some(Box::leak(Box::new(t))),
        Err(e) => {
            eprintln!("bitscope: {}", shown(&e));
            std::process::exit(2);
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let parse_triage = match &cli.command {
        Some(Command::Parse { triage, .. }) => triage.as_deref(),
        _ => None,
    };
    // `parse` only checks its file: its records carry no triage.
    let _ = tuning(parse_triage);
    let triage = tuning(cli.triage.as_deref());
    let Some(command) = cli.command else {
        if cli.paths.is_empty() && cli.case.is_none() {
            return Err("no PATH given (see --help)".into());
        }
        let opts = bitscope::tui::Options {
            carve: !cli.no_carve,
            zone: cli.tz.unwrap_or_default(),
            triage,
        };
        return bitscope::tui::run_case(cli.paths, opts, cli.case);
    };
    match command {
        Command::Ese(cmd) => run_ese(cmd),
        Command::Demo { write: Some(dir) } => write_demo(&dir),
        Command::Demo { write: None } => run_demo(bitscope::tui::Options {
            carve: !cli.no_carve,
            zone: cli.tz.unwrap_or_default(),
            triage,
        }),
        Command::Collect { config } => {
            let config = bitscope::collect::load(&config).map_err(|e| e.to_string())?;
            let done = bitscope::collect::run(&config).map_err(|e| e.to_string())?;
            for f in &done.files {
                println!("{}", escape(&f.display().to_string()));
            }
            eprintln!(
                "bitscope: {} records written to {} ({})",
                done.records,
                escape(&done.dir.display().to_string()),
                done.status
            );
            match done.status {
                "complete" => Ok(()),
                other => Err(format!("collection {other}: see the report's warnings")),
            }
        }
        Command::Parse {
            paths,
            live,
            format,
            output,
            carve,
            provenance,
            verify,
            threads,
            triage: _,
        } => {
            let opts = pipeline::Options {
                carve,
                field_ranges: provenance == Provenance::Fields,
                verify,
                ..pipeline::Options::default()
            };
            if live {
                return run_live(format, output.as_deref(), &opts);
            }
            run_parse(&paths, format, output.as_deref(), &opts, threads)
        }
    }
}

/// `bitscope demo`: the evidence in a private temporary folder, removed when the explorer
/// ends (by `q`, Ctrl-C or an error).
fn run_demo(opts: bitscope::tui::Options) -> Result<(), String> {
    let dir = demo::TempDir::new().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    demo::write_into(dir.path()).map_err(|e| e.to_string())?;
    let ended = bitscope::tui::explore(vec![dir.path().to_path_buf()], opts);
    drop(dir);
    if ended? == bitscope::tui::Ended::Interrupted {
        std::process::exit(130);
    }
    Ok(())
}

/// `bitscope demo --write DIR`: the files, and what to try on them.
fn write_demo(dir: &std::path::Path) -> Result<(), String> {
    let written = demo::write_into(dir).map_err(|e| e.to_string())?;
    for p in &written {
        println!("{}", escape(&p.display().to_string()));
    }
    let quoted = shell_quote(&dir.display().to_string());
    println!();
    println!("Try:");
    println!("  bitscope {quoted}");
    println!("  bitscope parse --carve {quoted} --format jsonl");
    Ok(())
}

/// A path as a POSIX shell word (single quotes unless it is plain), escaped for the terminal.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@".contains(&b));
    if plain {
        s.to_string()
    } else {
        escape(&format!("'{}'", s.replace('\'', r"'\''"))).into_owned()
    }
}

fn run_parse(
    paths: &[PathBuf],
    format: output::bits::Format,
    output: Option<&std::path::Path>,
    opts: &pipeline::Options,
    threads: usize,
) -> Result<(), String> {
    let inputs = driver::Inputs::find(paths);
    for w in &inputs.warnings {
        eprintln!("warning: {w}");
    }
    if inputs.files.is_empty() {
        return Err("no qmgr.db or qmgr*.dat found under the given paths".into());
    }
    // Every file that will be read as evidence (a segmented image's further segments too):
    // no output may replace one, nor may stdout be one.
    let evidence = inputs.evidence_paths();
    write_parsed(format, output, &evidence, |sink| {
        pipeline::parallel::run_inputs(inputs, opts, false, threads, sink)
    })
}

/// `bitscope parse --live`: this machine's BITS queue (see `pipeline::live`). Off Windows, a
/// usage error (exit 2).
fn run_live(
    format: output::bits::Format,
    output: Option<&std::path::Path>,
    opts: &pipeline::Options,
) -> Result<(), String> {
    let target = match pipeline::live::target() {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "bitscope: --live: {e}: use `bitscope parse PATH` on the files (or an image) collected from that system"
            );
            std::process::exit(2);
        }
    };
    write_parsed(format, output, &target.evidence(), |sink| {
        pipeline::live::run(&target, opts, false, sink)
    })
}

/// Write what `run` gives to `output` (atomically, never over `evidence`) or stdout; an error
/// when an input failed (its reason is on stderr already).
fn write_parsed(
    format: output::bits::Format,
    output: Option<&std::path::Path>,
    evidence: &[PathBuf],
    run: impl FnOnce(&mut dyn pipeline::Sink) -> Result<Vec<driver::Report>, pipeline::Stop>,
) -> Result<(), String> {
    let evidence: Vec<&std::path::Path> = evidence.iter().map(PathBuf::as_path).collect();
    let protected = output::Protected::of(&evidence);
    match output {
        Some(path) => {
            let show = |e: io::Error| format!("{}: {e}", escape(&path.display().to_string()));
            let file = output::AtomicFile::create(path, &protected).map_err(show)?;
            let (file, failed, count) = parse_into(format, file, run)?;
            // A failed input still leaves the others' records: the file is kept.
            file.commit().map_err(show)?;
            failure(failed, count)
        }
        None => {
            if let Some(why) = output::stdout::refusal(&protected) {
                return Err(why);
            }
            let stdout = BufWriter::with_capacity(256 << 10, io::stdout());
            let (_, failed, count) = parse_into(format, stdout, run)?;
            failure(failed, count)
        }
    }
}

/// Run the inputs into one writer (on its own thread); returns the writer, flushed, how many
/// inputs failed, and of how many.
fn parse_into<W: Write + Send>(
    format: output::bits::Format,
    out: W,
    run: impl FnOnce(&mut dyn pipeline::Sink) -> Result<Vec<driver::Report>, pipeline::Stop>,
) -> Result<(W, usize, usize), String> {
    let writer = output::bits::RecordWriter::new(out, format).map_err(|e| e.to_string())?;
    let mut note = |n: Note<'_>| match n {
        Note::Diagnostic(w) => eprintln!("warning: {}", escape(w)),
        // The pipeline's errors escape the names they hold already.
        Note::Failed(e) => eprintln!("bitscope: {}", shown(e)),
        Note::Info(i) => eprintln!("bitscope: {}", escape(i)),
    };
    let (reports, written) = pipeline::sink::with_writer_thread(writer, &mut note, run);
    let writer = written.map_err(|e| e.to_string())?;
    let out = writer.finish().map_err(|e| e.to_string())?;
    // A stopped run is the writer's failure, reported above.
    let (failed, count) = reports.map_or((0, 0), |r| {
        (r.iter().filter(|r| r.error.is_some()).count(), r.len())
    });
    Ok((out, failed, count))
}

fn failure(failed: usize, of: usize) -> Result<(), String> {
    if failed > 0 {
        return Err(format!("{failed} of {of} inputs could not be decoded"));
    }
    Ok(())
}

fn run_ese(cmd: EseCommand) -> Result<(), String> {
    let path = match &cmd {
        EseCommand::Info { path, .. } | EseCommand::Dump { path, .. } => path.clone(),
    };
    let ev = bitscope::input::Evidence::open(&path).map_err(|e| e.to_string())?;
    let data = ev.map().map_err(|e| e.to_string())?;
    let name = escape(&path.display().to_string()).into_owned();
    let protected = output::Protected::of(&[path.as_path()]);
    if let Some(why) = output::stdout::refusal(&protected) {
        return Err(why);
    }
    let result = ese_out(cmd, &Database::open_holding(&data, ev.held()), &name);
    // A file that shrank under its map was read partly as zeros: say so, whatever was written.
    if let Some(why) = ev.changed(Some(&data)) {
        return Err(format!(
            "{name}: changed while it was read ({why}): what was written is not to be trusted"
        ));
    }
    result
}

fn ese_out(
    cmd: EseCommand,
    db: &Result<Database<'_>, bitscope::ese::EseError>,
    name: &str,
) -> Result<(), String> {
    let db = db.as_ref().map_err(|e| format!("{name}: {e}"))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match cmd {
        EseCommand::Info { json: true, .. } => {
            let info = output::ese::info_json(db);
            serde_json::to_writer_pretty(&mut out, &info).map_err(|e| e.to_string())?;
            writeln!(out).map_err(|e| e.to_string())?;
        }
        EseCommand::Info { .. } => {
            output::ese::info_text(db, &mut out).map_err(|e| e.to_string())?
        }
        EseCommand::Dump { table, .. } => {
            let warnings = output::ese::dump(db, table.as_deref(), &mut out)
                .map_err(|e| format!("{name}: {e}"))?;
            for w in warnings {
                eprintln!("warning: {name}: {}", escape(&w.to_string()));
            }
        }
    }
    out.flush().map_err(|e| e.to_string())
}
