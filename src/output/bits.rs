//! BitsInfo writers: a JSON array, JSON Lines, or CSV with the ACLs flattened readably.

use std::io::{self, Write};

use crate::bits::model::BitsInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    Json,
    Jsonl,
    Csv,
    /// Timesketch JSONL: one line per distinct timestamp of each record.
    Timeline,
}

impl Format {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonl | Format::Timeline => "jsonl",
            Format::Csv => "csv",
        }
    }
}

/// Write all `records` at once (tests, the explorer's small exports).
pub fn write(records: &[BitsInfo], format: Format, out: &mut dyn Write) -> io::Result<()> {
    let mut w = RecordWriter::new(out, format)?;
    for r in records {
        w.write(r)?;
    }
    w.finish().map(|_| ())
}

/// Writes records one at a time as they come, in any format; the JSON array is streamed too,
/// byte for byte what `serde_json::to_writer_pretty` gives for the whole array.
pub struct RecordWriter<W: Write> {
    out: W,
    format: Format,
    count: u64,
    scratch: Vec<u8>,
}

impl<W: Write> RecordWriter<W> {
    /// Start the output (the CSV header; nothing else until the first record).
    pub fn new(mut out: W, format: Format) -> io::Result<RecordWriter<W>> {
        if format == Format::Csv {
            csv_line(&mut out, CSV_HEADER.iter().map(|s| s.to_string()))?;
        }
        Ok(RecordWriter {
            out,
            format,
            count: 0,
            scratch: Vec::new(),
        })
    }

    pub fn write(&mut self, r: &BitsInfo) -> io::Result<()> {
        match self.format {
            Format::Json => {
                self.scratch.clear();
                serde_json::to_writer_pretty(&mut self.scratch, r)?;
                let sep: &[u8] = if self.count == 0 { b"[\n" } else { b",\n" };
                self.out.write_all(sep)?;
                // Indent the element one level: JSON strings never hold a raw line break, so
                // every line break is the pretty printer's own.
                for (i, line) in self.scratch.split(|b| *b == b'\n').enumerate() {
                    if i > 0 {
                        self.out.write_all(b"\n")?;
                    }
                    self.out.write_all(b"  ")?;
                    self.out.write_all(line)?;
                }
            }
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, r)?;
                self.out.write_all(b"\n")?;
            }
            Format::Timeline => {
                for e in crate::output::timeline::entries(r) {
                    serde_json::to_writer(&mut self.out, &e)?;
                    self.out.write_all(b"\n")?;
                }
            }
            Format::Csv => csv_record(&mut self.out, r)?,
        }
        self.count += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Close the output (the JSON array's end) and hand back the writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        if self.format == Format::Json {
            let end: &[u8] = if self.count == 0 { b"[]\n" } else { b"\n]\n" };
            self.out.write_all(end)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

const CSV_HEADER: [&str; 44] = [
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
    "host",
    "host_source",
];

fn csv_record(out: &mut dyn Write, r: &BitsInfo) -> io::Result<()> {
    {
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
            r.host.clone(),
            r.host_source.clone(),
        ];
        csv_line(out, fields.into_iter())
    }
}

/// One RFC 4180 line: fields with a comma, quote or line break are quoted, quotes doubled.
/// A field starting with `=`, `+`, `-`, `@`, a TAB or a CR (OWASP's CSV-injection list) gets a
/// leading `'` so spreadsheet programs do not run attacker-controlled text as a formula.
fn csv_line(out: &mut dyn Write, fields: impl Iterator<Item = String>) -> io::Result<()> {
    let mut line = String::new();
    for (i, f) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        let f = if f.starts_with(['=', '+', '-', '@', '\t', '\r']) {
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
                "\tcmd".into(),
                "\rcmd".into(),
            ]
            .into_iter(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",'=cmd(),\"x\ny\",'\tcmd,\"'\rcmd\"\r\n"
        );
    }

    #[test]
    fn streamed_json_equals_the_pretty_array() {
        let mut a = BitsInfo {
            job_id: "a".into(),
            url: "http://x/\"q\"\n".into(),
            ..BitsInfo::default()
        };
        a.warnings.push("w".into());
        let b = BitsInfo {
            job_id: "b".into(),
            ..BitsInfo::default()
        };
        for records in [vec![], vec![a.clone()], vec![a, b]] {
            let mut streamed = Vec::new();
            write(&records, Format::Json, &mut streamed).unwrap();
            let mut whole = serde_json::to_vec_pretty(&records).unwrap();
            whole.push(b'\n');
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                String::from_utf8(whole).unwrap()
            );
        }
    }
}
