//! BitsInfo writers: a JSON array, JSON Lines, or CSV with the ACLs flattened readably.

use std::io::{self, Write};

use serde::Serialize;

use crate::bits::model::{BitsInfo, Source};

/// What the explorer adds to a record it exports, after the record's own fields: the codes of
/// the triage rules that fired, and the analyst's note and tags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Annotation<'a> {
    pub triage: &'a [&'a str],
    pub note: &'a str,
    pub tags: &'a [String],
}

/// A record with its [`Annotation`], as JSON: the record's fields as `parse` writes them,
/// then `triage`, `note` and `tags`.
#[derive(Serialize)]
struct Annotated<'a> {
    #[serde(flatten)]
    record: &'a BitsInfo,
    triage: &'a [&'a str],
    note: &'a str,
    tags: &'a [String],
}

/// The CSV columns an annotated export adds after [`COLUMNS`].
const ANNOTATION_COLUMNS: [&str; 3] = ["triage", "note", "tags"];

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
    /// Written by [`RecordWriter::annotated`]: every record carries an [`Annotation`].
    annotated: bool,
}

impl<W: Write> RecordWriter<W> {
    /// Start the output (the CSV header; nothing else until the first record).
    pub fn new(mut out: W, format: Format) -> io::Result<RecordWriter<W>> {
        if format == Format::Csv {
            csv_line(&mut out, COLUMNS.iter().map(|c| c.name.to_string()))?;
        }
        Ok(RecordWriter {
            out,
            format,
            count: 0,
            scratch: Vec::new(),
            annotated: false,
        })
    }

    /// A writer whose records carry an [`Annotation`] (the explorer's exports): JSON gets
    /// `triage`, `note` and `tags` after the record's own fields, CSV three columns after its
    /// own (`triage` and `tags` separated by spaces). Write with [`RecordWriter::write_annotated`].
    pub fn annotated(mut out: W, format: Format) -> io::Result<RecordWriter<W>> {
        if format == Format::Csv {
            let names = COLUMNS.iter().map(|c| c.name).chain(ANNOTATION_COLUMNS);
            csv_line(&mut out, names.map(str::to_string))?;
        }
        Ok(RecordWriter {
            out,
            format,
            count: 0,
            scratch: Vec::new(),
            annotated: true,
        })
    }

    pub fn write(&mut self, r: &BitsInfo) -> io::Result<()> {
        if self.annotated {
            return self.write_annotated(r, &Annotation::default());
        }
        self.write_value(r, r, None)
    }

    /// A record and what the explorer adds to it (its annotation is left out by a writer
    /// made with [`RecordWriter::new`], and by the timeline format).
    pub fn write_annotated(&mut self, r: &BitsInfo, a: &Annotation) -> io::Result<()> {
        if !self.annotated {
            return self.write_value(r, r, None);
        }
        let v = Annotated {
            record: r,
            triage: a.triage,
            note: a.note,
            tags: a.tags,
        };
        self.write_value(r, &v, Some(a))
    }

    fn write_value<T: Serialize>(
        &mut self,
        r: &BitsInfo,
        v: &T,
        a: Option<&Annotation>,
    ) -> io::Result<()> {
        match self.format {
            Format::Json => {
                self.scratch.clear();
                serde_json::to_writer_pretty(&mut self.scratch, v)?;
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
                // One line into the reused scratch buffer, then one write: serde_json writes
                // each quote, key and colon apart, and through `out` (often a `dyn Write` over a
                // BufWriter) each of those small writes cost more than the byte it copies.
                self.scratch.clear();
                serde_json::to_writer(&mut self.scratch, v)?;
                self.scratch.push(b'\n');
                self.out.write_all(&self.scratch)?;
            }
            Format::Timeline => {
                for e in crate::output::timeline::entries(r) {
                    serde_json::to_writer(&mut self.out, &e)?;
                    self.out.write_all(b"\n")?;
                }
            }
            Format::Csv => match a {
                None => csv_record(&mut self.out, r)?,
                Some(a) => {
                    let extra = [a.triage.join(" "), a.note.to_string(), a.tags.join(" ")];
                    let own = COLUMNS.iter().map(|c| (c.value)(r));
                    csv_line(&mut self.out, own.chain(extra))?
                }
            },
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

/// One CSV column: its header and how a record gives its value. The header, each row and
/// the tests all come from [`COLUMNS`], so they cannot fall out of step.
struct Column {
    name: &'static str,
    value: fn(&BitsInfo) -> String,
}

const fn col(name: &'static str, value: fn(&BitsInfo) -> String) -> Column {
    Column { name, value }
}

/// The CSV columns, in order: the seed's fields with the provenance flattened, the fields
/// added after them (issue 20), and last the host (collection tools read it there).
const COLUMNS: &[Column] = &[
    col("job_id", |r| r.job_id.clone()),
    col("file_id", |r| r.file_id.clone()),
    col("owner_sid", |r| r.owner_sid.clone()),
    col("owner_account", |r| r.owner_account.clone()),
    col("created", |r| r.created.clone()),
    col("modified", |r| r.modified.clone()),
    col("completed", |r| r.completed.clone()),
    col("expiration", |r| r.expiration.clone()),
    col("bytes_downloaded", |r| r.bytes_downloaded.to_string()),
    col("bytes_transferred", |r| r.bytes_transferred.to_string()),
    col("job_name", |r| r.job_name.clone()),
    col("job_description", |r| r.job_description.clone()),
    col("job_command", |r| r.job_command.clone()),
    col("job_arguments", |r| r.job_arguments.clone()),
    col("error_count", |r| r.error_count.to_string()),
    col("job_type", |r| r.job_type.clone()),
    col("job_state", |r| r.job_state.clone()),
    col("priority", |r| r.priority.clone()),
    col("flags", |r| r.flags.clone()),
    col("http_method", |r| r.http_method.clone()),
    col("full_path", |r| r.full_path.clone()),
    col("filename", |r| r.filename.clone()),
    col("target_path", |r| r.target_path.clone()),
    col("volume", |r| r.volume.clone()),
    col("url", |r| r.url.clone()),
    col("carved", |r| r.carved.to_string()),
    col("transient_error_count", |r| {
        r.transient_error_count.to_string()
    }),
    col("acls", acls),
    col("timeout", |r| r.timeout.to_string()),
    col("retry_delay", |r| r.retry_delay.to_string()),
    col("additional_sids", |r| r.additional_sids.join("; ")),
    col("drive", |r| r.drive.clone()),
    col("tmp_fullpath", |r| r.tmp_fullpath.clone()),
    col("sddl", |r| r.sddl.clone()),
    col("remote_modified", |r| r.remote_modified.clone()),
    col("evidence", |r| {
        let s = r.job_source.as_ref().or(r.file_source.as_ref());
        s.map(|s| s.evidence.clone()).unwrap_or_default()
    }),
    col("job_offset", |r| pos(&r.job_source, |s| s.offset)),
    col("job_length", |r| pos(&r.job_source, |s| s.length)),
    col("file_offset", |r| pos(&r.file_source, |s| s.offset)),
    col("file_length", |r| pos(&r.file_source, |s| s.length)),
    col("missing_fields", |r| r.missing_fields.join("; ")),
    col("warnings", |r| r.warnings.join("; ")),
    col("job_version", |r| r.job_version.clone()),
    col("package_family_name", |r| r.package_family_name.clone()),
    col("application_id", |r| r.application_id.clone()),
    col("package_guid", |r| r.package_guid.clone()),
    col("proxy_usage", |r| r.proxy_usage.clone()),
    col("proxy_list", |r| r.proxy_list.clone()),
    col("proxy_bypass", |r| r.proxy_bypass.clone()),
    col("custom_headers", |r| r.custom_headers.clone()),
    col("security_flags", |r| r.security_flags.clone()),
    col("max_download_time", |r| r.max_download_time.to_string()),
    col("error_code", |r| r.error_code.clone()),
    col("error_context", |r| r.error_context.clone()),
    col("unknown_bytes", |r| r.unknown_bytes.join("; ")),
    col("max_download_size", |r| r.max_download_size.clone()),
    col("client_certificate", |r| r.client_certificate.clone()),
    col("credential_targets", |r| r.credential_targets.clone()),
    col("reply_file", |r| r.reply_file.clone()),
    col("reply_guid", |r| r.reply_guid.clone()),
    col("undecoded", |r| r.undecoded.join("; ")),
    col("also_in", |r| {
        let s = r.job_source.as_ref().or(r.file_source.as_ref());
        s.map(|s| {
            let copies: Vec<String> = s
                .also_in
                .iter()
                .map(|c| format!("{} at {} ({})", c.evidence, c.offset, c.kind.as_str()))
                .collect();
            copies.join("; ")
        })
        .unwrap_or_default()
    }),
    col("host", |r| r.host.clone()),
    col("host_source", |r| r.host_source.clone()),
];

/// A source's offset or length, empty when the record has no such source.
fn pos(s: &Option<Source>, f: fn(&Source) -> u64) -> String {
    s.as_ref().map(|s| f(s).to_string()).unwrap_or_default()
}

/// The ACL, one entry per ACE: type, SID (with its name), mask, rights.
fn acls(r: &BitsInfo) -> String {
    r.acls
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
        .join("; ")
}

fn csv_record(out: &mut dyn Write, r: &BitsInfo) -> io::Result<()> {
    csv_line(out, COLUMNS.iter().map(|c| (c.value)(r)))
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
    fn every_csv_column_names_a_record_field_once() {
        // Each column is a JSON field of the record, or one of the flattened provenance
        // columns; none twice; the header and a row have as many fields.
        let json = serde_json::to_value(BitsInfo::default()).unwrap();
        let flattened = [
            "evidence",
            "job_offset",
            "job_length",
            "file_offset",
            "file_length",
            "also_in",
            // Left out of the JSON when empty, as in a default record.
            "host",
            "host_source",
        ];
        let mut seen = std::collections::HashSet::new();
        for c in COLUMNS {
            assert!(seen.insert(c.name), "{} twice", c.name);
            assert!(
                json.get(c.name).is_some() || flattened.contains(&c.name),
                "{} is no field of BitsInfo",
                c.name
            );
        }
        let mut out = Vec::new();
        write(&[BitsInfo::default()], Format::Csv, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].split(',').count(), COLUMNS.len());
        assert_eq!(lines[1].split(',').count(), COLUMNS.len());
        // Every field of the record but the structured provenance is a column.
        let skipped = ["job_source", "file_source", "versions"];
        for k in json.as_object().unwrap().keys() {
            assert!(
                seen.contains(k.as_str()) || skipped.contains(&k.as_str()),
                "{k} has no column"
            );
        }
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
