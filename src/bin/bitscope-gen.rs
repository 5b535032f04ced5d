//! `bitscope-gen`: realistic BITS evidence with known ground truth, for tests and benches.
//!
//! Each command writes its file and, beside it, `FILE.truth.json`: every live and every planted
//! record with its values and byte offsets. Output is a function of the seed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use bitscope::gen::{self, EseOptions};

/// Generate BITS fixtures with ground truth.
///
/// Exit codes: 0 success, 1 the file could not be written, 2 bad command line.
#[derive(Parser)]
#[command(name = "bitscope-gen", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A Windows 10/11 qmgr.db (ESE, 16 KiB pages) with live and deleted jobs and files.
    Ese {
        /// Live jobs.
        #[arg(long, default_value_t = 10)]
        jobs: usize,
        /// Files per live job.
        #[arg(long, default_value_t = 1)]
        files_per_job: usize,
        /// Deleted job and file blobs to plant (pairs: a job, then its file).
        #[arg(long, default_value_t = 0)]
        deleted: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file; its truth goes to OUT.truth.json.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite OUT and its truth if they exist.
        #[arg(long)]
        force: bool,
        /// Write data past byte 668 of the header, as Windows 11 does (old libesedb then
        /// refuses the file).
        #[arg(long)]
        win11_header: bool,
        /// Put every live blob's bytes (hex) in the truth, not only its SHA-256.
        #[arg(long)]
        truth_hex: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Ese {
            jobs,
            files_per_job,
            deleted,
            seed,
            out,
            force,
            win11_header,
            truth_hex,
        } => {
            let opts = EseOptions {
                jobs,
                files_per_job,
                deleted,
                seed,
                win11_header,
                truth_hex,
            };
            let start = Instant::now();
            match gen::write_ese(&opts, &out, force) {
                Ok(truth) => {
                    let db = &truth.database;
                    eprintln!(
                        "bitscope-gen: wrote {} ({} bytes, {} pages; {} jobs, {} files, {} deleted) and {} in {:.2} s",
                        out.display(),
                        db.file_size,
                        db.pages,
                        truth.jobs.len(),
                        truth.files.len(),
                        truth.deleted.len(),
                        gen::truth_path(&out).display(),
                        start.elapsed().as_secs_f64()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("bitscope-gen: {e}");
                    match e {
                        gen::GenError::Invalid(_) => ExitCode::from(2),
                        _ => ExitCode::from(1),
                    }
                }
            }
        }
    }
}
