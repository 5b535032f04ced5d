//! The `bitscope` command line.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bitscope::bits::parse;
use bitscope::ese::Database;
use bitscope::output;

/// Explore Windows BITS queue databases (qmgr.db, qmgr0.dat/qmgr1.dat).
///
/// Exit codes: 0 success, 1 the input could not be read or is not what was expected,
/// 2 bad command line.
#[derive(Parser)]
#[command(name = "bitscope", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct Cli {
    /// Open the terminal explorer on PATH: a qmgr.db, a qmgr0/1.dat, a Downloader folder, or
    /// any file to carve. `?` in the explorer lists every key.
    #[arg(required = true, value_name = "PATH")]
    path: Option<PathBuf>,
    /// Explorer: read live records only, do not carve free space.
    #[arg(long)]
    no_carve: bool,
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
    /// written); 2 bad command line.
    Parse {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "json")]
        format: output::bits::Format,
        /// Write to FILE (atomically; never over an input) instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also carve deleted records from free space.
        #[arg(long)]
        carve: bool,
    },
    /// Run a TOML collection (the artemis `bits` artifact format; see assets/collect-bits.toml).
    Collect {
        #[arg(long)]
        config: PathBuf,
    },
    /// Inspect an ESE database directly (no BITS decoding).
    #[command(subcommand)]
    Ese(EseCommand),
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
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("bitscope: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let Some(command) = cli.command else {
        let path = cli.path.ok_or("no PATH given (see --help)")?;
        let opts = bitscope::tui::Options {
            carve: !cli.no_carve,
        };
        return bitscope::tui::run(path, opts);
    };
    match command {
        Command::Ese(cmd) => run_ese(cmd),
        Command::Collect { config } => {
            let config = output::collect::load(&config).map_err(|e| e.to_string())?;
            let done = output::collect::run(&config).map_err(|e| e.to_string())?;
            for f in &done.files {
                println!("{}", f.display());
            }
            eprintln!(
                "bitscope: {} records written to {}",
                done.records,
                done.dir.display()
            );
            Ok(())
        }
        Command::Parse {
            paths,
            format,
            output,
            carve,
        } => run_parse(&paths, format, output.as_deref(), carve),
    }
}

fn run_parse(
    paths: &[PathBuf],
    format: output::bits::Format,
    output: Option<&std::path::Path>,
    carve: bool,
) -> Result<(), String> {
    let inputs: Vec<PathBuf> = paths.iter().flat_map(|p| parse::find_inputs(p)).collect();
    if inputs.is_empty() {
        return Err("no qmgr.db or qmgr*.dat found under the given paths".into());
    }
    let mut records = Vec::new();
    let mut failed = 0;
    for result in parse::parse_files(&inputs, carve) {
        match result {
            Ok(parsed) => {
                for w in &parsed.warnings {
                    eprintln!("warning: {}: {w}", parsed.evidence);
                }
                records.extend(parsed.records);
            }
            Err(e) => {
                eprintln!("bitscope: {e}");
                failed += 1;
            }
        }
    }
    let mut buf = Vec::new();
    output::bits::write(&records, format, &mut buf).map_err(|e| e.to_string())?;
    match output {
        Some(path) => {
            let evidence: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
            output::write_file_atomic(path, &buf, &evidence)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        None => io::stdout()
            .lock()
            .write_all(&buf)
            .map_err(|e| e.to_string())?,
    }
    if failed > 0 {
        return Err(format!(
            "{failed} of {} inputs could not be decoded",
            inputs.len()
        ));
    }
    Ok(())
}

fn run_ese(cmd: EseCommand) -> Result<(), String> {
    let path = match &cmd {
        EseCommand::Info { path, .. } | EseCommand::Dump { path, .. } => path.clone(),
    };
    let data = bitscope::input::read_evidence(&path).map_err(|e| e.to_string())?;
    let db = Database::open(&data).map_err(|e| format!("{}: {e}", path.display()))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match cmd {
        EseCommand::Info { json: true, .. } => {
            let info = output::ese::info_json(&db);
            serde_json::to_writer_pretty(&mut out, &info).map_err(|e| e.to_string())?;
            writeln!(out).map_err(|e| e.to_string())?;
        }
        EseCommand::Info { .. } => {
            output::ese::info_text(&db, &mut out).map_err(|e| e.to_string())?
        }
        EseCommand::Dump { table, .. } => {
            let warnings = output::ese::dump(&db, table.as_deref(), &mut out)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            for w in warnings {
                eprintln!("warning: {}: {w}", path.display());
            }
        }
    }
    out.flush().map_err(|e| e.to_string())
}
