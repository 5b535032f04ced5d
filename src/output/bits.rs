//! BitsInfo writers: a JSON array, JSON Lines, or CSV with the ACLs flattened readably.

use std::io::{self, Write};

use crate::bits::model::BitsInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Jsonl,
    Csv,
}

pub fn write(records: &[BitsInfo], format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, records)?;
            out.write_all(b"\n")
        }
        Format::Jsonl => {
            for r in records {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        Format::Csv => write_csv(records, out),
    }
}

const CSV_HEADER: [&str; 42] = [
    "job_id",
    "file_id",
    "owner_sid",
    "owner_account",
    "created",
    "modified",
    "completed",
    "expiration",
    "bytes_downloaded",
    "bytes_transferred",
    "job_name",
    "job_description",
    "job_command",
    "job_arguments",
    "error_count",
    "job_type",
    "job_state",
    "priority",
    "flags",
    "http_method",
    "full_path",
    "filename",
    "target_path",
    "volume",
    "url",
    "carved",
    "transient_error_count",
    "acls",
    "timeout",
    "retry_delay",
    "additional_sids",
    "drive",
    "tmp_fullpath",
    "sddl",
    "remote_modified",
    "evidence",
    "job_offset",
    "job_length",
    "file_offset",
    "file_length",
    "missing_fields",
    "warnings",
];

fn write_csv(records: &[BitsInfo], out: &mut dyn Write) -> io::Result<()> {
    csv_line(out, CSV_HEADER.iter().map(|s| s.to_string()))?;
    for r in records {
        let evidence = r
            .job_source
            .as_ref()
            .or(r.file_source.as_ref())
            .map(|s| s.evidence.clone())
            .unwrap_or_default();
        let pos = |s: &Option<crate::bits::model::Source>| {
            s.as_ref()
                .map(|s| (s.offset.to_string(), s.length.to_string()))
                .unwrap_or_default()
        };
        let (jo, jl) = pos(&r.job_source);
        let (fo, fl) = pos(&r.file_source);
        let acls = r
            .acls
            .iter()
            .map(|a| {
                let who = if a.account.is_empty() {
                    a.sid.clone()
                } else {
                    format!("{} ({})", a.sid, a.account)
                };
                format!(
                    "{} {} {:#010x} [{}]",
                    a.ace_type.trim_end_matches("AceType"),
                    who,
                    a.mask,
                    a.access_rights.join(",")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let fields = [
            r.job_id.clone(),
            r.file_id.clone(),
            r.owner_sid.clone(),
            r.owner_account.clone(),
            r.created.clone(),
            r.modified.clone(),
            r.completed.clone(),
            r.expiration.clone(),
            r.bytes_downloaded.to_string(),
            r.bytes_transferred.to_string(),
            r.job_name.clone(),
            r.job_description.clone(),
            r.job_command.clone(),
            r.job_arguments.clone(),
            r.error_count.to_string(),
            r.job_type.clone(),
            r.job_state.clone(),
            r.priority.clone(),
            r.flags.clone(),
            r.http_method.clone(),
            r.full_path.clone(),
            r.filename.clone(),
            r.target_path.clone(),
            r.volume.clone(),
            r.url.clone(),
            r.carved.to_string(),
            r.transient_error_count.to_string(),
            acls,
            r.timeout.to_string(),
            r.retry_delay.to_string(),
            r.additional_sids.join("; "),
            r.drive.clone(),
            r.tmp_fullpath.clone(),
            r.sddl.clone(),
            r.remote_modified.clone(),
            evidence,
            jo,
            jl,
            fo,
            fl,
            r.missing_fields.join("; "),
            r.warnings.join("; "),
        ];
        csv_line(out, fields.into_iter())?;
    }
    Ok(())
}

/// One RFC 4180 line: fields with a comma, quote or line break are quoted, quotes doubled.
/// A field starting with `=`, `+`, `-` or `@` gets a leading `'` so spreadsheet programs do
/// not run attacker-controlled text as a formula.
fn csv_line(out: &mut dyn Write, fields: impl Iterator<Item = String>) -> io::Result<()> {
    let mut line = String::new();
    for (i, f) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        let f = if f.starts_with(['=', '+', '-', '@']) {
            format!("'{f}")
        } else {
            f
        };
        if f.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&f.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(&f);
        }
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut out = Vec::new();
        csv_line(
            &mut out,
            [
                "a,b".to_string(),
                "say \"hi\"".into(),
                "=cmd()".into(),
                "x\ny".into(),
            ]
            .into_iter(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",'=cmd(),\"x\ny\"\r\n"
        );
    }
}
