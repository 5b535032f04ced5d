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
        /// Give jobs every setting the decoders read: Win11 24H2 package identities, proxy
        /// settings, custom headers, security flags, error texts, upload-reply jobs.
        #[arg(long)]
        all_fields: bool,
    },
    /// A legacy queue (qmgr0.dat) of copies of a real job record, deleted ones in its slack.
    Legacy {
        #[arg(long, default_value_t = 3)]
        jobs: u8,
        #[arg(long, default_value_t = 0)]
        deleted: u8,
        /// win7 (0x10 preamble, Win7 delimiter) or win10 (early Windows 10, 0x18 preamble).
        #[arg(long, default_value = "win7")]
        variant: String,
        /// Accepted for symmetry; copies are numbered, so the output depends on no seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
        /// The samples folder holding the real pieces (default $BITSCOPE_SAMPLES or
        /// ../shared/samples).
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// A raw image: random then zero background with planted job, file and legacy records.
    Image {
        #[arg(long)]
        size: u64,
        #[arg(long, default_value_t = 16)]
        plant: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
        #[arg(long)]
        samples: Option<PathBuf>,
    },
}

fn samples_dir(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| std::env::var_os("BITSCOPE_SAMPLES").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/samples"))
}

fn report(result: Result<serde_json::Value, gen::GenError>, out: &std::path::Path) -> ExitCode {
    match result {
        Ok(_) => {
            eprintln!(
                "bitscope-gen: wrote {} and {}",
                out.display(),
                gen::truth_path(out).display()
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Legacy {
            jobs,
            deleted,
            variant,
            seed: _,
            out,
            force,
            samples,
        } => report(
            gen::raw::write_legacy(&samples_dir(samples), jobs, deleted, &variant, &out, force),
            &out,
        ),
        Command::Image {
            size,
            plant,
            seed,
            out,
            force,
            samples,
        } => report(
            gen::raw::write_image(&samples_dir(samples), size, plant, seed, &out, force),
            &out,
        ),
        Command::Ese {
            jobs,
            files_per_job,
            deleted,
            seed,
            out,
            force,
            win11_header,
            truth_hex,
            all_fields,
        } => {
            let opts = EseOptions {
                jobs,
                files_per_job,
                deleted,
                seed,
                win11_header,
                truth_hex,
                all_fields,
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
