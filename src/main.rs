//! The `bitscope` command line.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bitscope::ese::Database;
use bitscope::output;

/// Explore Windows BITS queue databases (qmgr.db, qmgr0.dat/qmgr1.dat).
///
/// Exit codes: 0 success, 1 the input could not be read or is not what was expected,
/// 2 bad command line.
#[derive(Parser)]
#[command(name = "bitscope", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    match cli.command {
        Command::Ese(cmd) => run_ese(cmd),
    }
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
