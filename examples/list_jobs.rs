//! List the BITS jobs in evidence: `cargo run --example list_jobs -- PATH [--carve]`.
//!
//! PATH is a qmgr.db, a qmgr0/1.dat, a folder holding them, a collection or a disk image. One
//! line per record: how it was found, the job id, name, URL and notify command; then what was
//! wrong with the evidence.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: list_jobs PATH [--carve]");
        return ExitCode::from(2);
    };
    let carve = args.any(|a| a == "--carve");
    let stdout = std::io::stdout();
    match list_jobs(&path, carve, &mut stdout.lock(), &mut std::io::stderr()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("list_jobs: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Write one line per record of the evidence at `path` to `out`, and its errors and warnings
/// to `err`; false when some input could not be read.
pub fn list_jobs(
    path: &str,
    carve: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<bool> {
    let mut records = bitscope::Parser::new(path).carve(carve).records();
    let mut all_read = true;
    for record in records.by_ref() {
        match record {
            Ok(r) => {
                let kind = r.job_source.as_ref().map_or("?", |s| s.kind.as_str());
                // Evidence text is untrusted: written through Debug's escaping, never raw.
                writeln!(
                    out,
                    "{kind:6} {} {:?} {:?} {:?}",
                    r.job_id, r.job_name, r.url, r.job_command
                )?;
            }
            Err(e) => {
                writeln!(err, "error: {e}")?;
                all_read = false;
            }
        }
    }
    for d in records.diagnostics() {
        writeln!(err, "warning: {:?}", d.to_string())?;
    }
    Ok(all_read)
}
