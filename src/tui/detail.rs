//! The detail pane's text: every value of one record, section by section, and the fields the
//! cursor stops on.
//!
//! A field's labelled line and its raw value are made together ([`Text::field`]), so the
//! fields `y` copies, the line the cursor lights and the label printed are one list: nothing
//! matches lines to fields by their text.

use super::zone::Zone;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::bits::model::{BitsInfo, Placement, Source, SourceKind};
use crate::bits::triage::Finding;
use crate::bits::tuning::{Severity, Tuning};
use crate::winsec::well_known_name;

use super::display;
use super::store::{distinct_warnings, findings, Rec, Store};
use super::style::{
    esc, esc_styled, kv, label, section, ACCENT, CARVED, DANGER, DIM, HIDDEN, LIVE,
};

/// A value the cursor stops on: its label as printed, its raw value, and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    /// Index into [`Text::lines`].
    pub line: usize,
}

/// The pane's lines and the fields on them, in the pane's order.
#[derive(Debug, Default)]
pub struct Text {
    pub lines: Vec<Line<'static>>,
    pub fields: Vec<Field>,
}

impl Text {
    fn push(&mut self, line: Line<'static>) {
        self.lines.push(line);
    }

    /// A labelled line that is not a field (a summary of several values).
    fn kv(&mut self, l: &str, shown: &str) {
        self.push(kv(l, shown));
    }

    /// A field: `label`, then `spans`; `raw` is what `y` copies (an empty value is no field:
    /// there is nothing to copy).
    fn field_spans(&mut self, l: &'static str, spans: Vec<Span<'static>>, raw: &str) {
        if !raw.is_empty() {
            self.fields.push(Field {
                label: l,
                value: raw.to_string(),
                line: self.lines.len(),
            });
        }
        let mut all = vec![label(l)];
        all.extend(spans);
        self.push(Line::from(all));
    }

    /// A field shown as `shown` (escaped), copied as `raw`.
    fn field_as(&mut self, l: &'static str, shown: &str, raw: &str) {
        self.field_spans(l, vec![esc(shown)], raw);
    }

    /// A field shown as it is copied.
    fn field(&mut self, l: &'static str, raw: &str) {
        self.field_as(l, raw, raw);
    }
}

/// The whole pane for record `ri` of the store.
pub fn text(store: &Store, ri: u32) -> Text {
    let rec = store.rec(ri);
    let mut t = Text::default();
    record_header(&mut t, rec, store.tuning());
    if let Some(a) = store.note_of(ri) {
        note_lines(&mut t, a);
    }
    record_sections(&mut t, &rec.info, store.zone);
    linked_files_section(&mut t, store, rec, ri);
    versions_section(&mut t, store, rec, ri);
    warnings_section(&mut t, &rec.info);
    t
}

/// The sections made of the record's own values (every field is in one of them).
fn record_sections(t: &mut Text, r: &BitsInfo, zone: Zone) {
    job_section(t, r, zone);
    file_section(t, r);
    owner_section(t, r);
    story_section(t, r);
    acl_section(t, r);
    provenance_section(t, r);
}

/// The fields of a record, in the pane's order (what `j`/`k` step through and `y` copies).
pub fn fields(r: &BitsInfo) -> Vec<Field> {
    let mut t = Text::default();
    record_sections(&mut t, r, Zone::Utc);
    t.fields
}

/// Live or carved, the hidden-character warning, and the triage findings.
fn record_header(t: &mut Text, rec: &Rec, tuning: &Tuning) {
    let kind = if rec.info.carved {
        Span::styled(
            "CARVED (recovered from free space; not in the live job list)",
            Style::default().fg(CARVED).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::styled(
            "live",
            Style::default().fg(LIVE).add_modifier(Modifier::BOLD),
        )
    };
    t.push(Line::from(vec![label("record"), kind]));
    if rec.hidden {
        t.push(Line::from(Span::styled(
            "⚠ holds control, bidi or invisible characters: shown as \\xHH / \\u{…} escapes (copy and export keep the raw text)",
            Style::default().fg(HIDDEN).add_modifier(Modifier::BOLD),
        )));
    }
    for f in findings(rec, tuning) {
        t.push(finding_line(&f, tuning.severity(f.rule)));
    }
}

/// The analyst's note and tags (`a`), escaped like every value: a case file is untrusted.
fn note_lines(t: &mut Text, a: &super::notes::Annotation) {
    let style = Style::default().fg(ACCENT).add_modifier(Modifier::BOLD);
    if !a.note.is_empty() {
        t.push(Line::from(vec![label("note"), esc_styled(&a.note, style)]));
    }
    if !a.tags.is_empty() {
        let tags: Vec<String> = a.tags.iter().map(|t| format!("#{t}")).collect();
        t.push(Line::from(vec![
            label("tags"),
            esc_styled(&tags.join(" "), style),
        ]));
    }
}

/// One triage finding: the rule, then the field and the value that fired it (escaped, whole
/// like every value of the pane: a path's end is what fired), then why when the value alone
/// does not say.
/// One finding, led by its severity (`--triage`): `suspicious` for high, else `medium` or
/// `low` (in a quieter colour).
fn finding_line(f: &Finding, severity: Severity) -> Line<'static> {
    let colour = if severity == Severity::High {
        DANGER
    } else {
        DIM
    };
    let mut spans = vec![
        Span::styled(
            format!(
                "{} [{}] {}: ",
                severity.label(),
                f.rule.code(),
                f.rule.name()
            ),
            Style::default().fg(colour),
        ),
        Span::styled(format!("{} ", f.field), Style::default().fg(ACCENT)),
        esc(&f.value),
    ];
    if !f.note.is_empty() {
        spans.push(Span::styled(
            format!(" ({})", display::escape(&f.note)),
            Style::default().fg(DIM),
        ));
    }
    Line::from(spans)
}

fn job_section(t: &mut Text, r: &BitsInfo, zone: Zone) {
    t.push(section("Job"));
    // A file record no job claims (an orphan) has no job values: each shows `—`, never a
    // default such as `errors 0 · timeout 0 s` that reads like evidence.
    let no_job = r.job_source.is_none() && r.job_id.is_empty();
    if no_job {
        t.push(Line::from(Span::styled(
            "no job record holds this file (an orphan file record)",
            Style::default().fg(CARVED),
        )));
    }
    // A value the record did not yield (`missing_fields`) shows `—` too, never empty or 0.
    let known = |f: &str, v: &str| display::or_unknown(r, f, v.to_string());
    let job = |f: &str, v: &str| {
        if no_job {
            "—".to_string()
        } else {
            known(f, v)
        }
    };
    t.field_as("job id", &job("job_id", &r.job_id), &r.job_id);
    t.field_as("name", &job("job_name", &r.job_name), &r.job_name);
    t.field_as(
        "description",
        &job("job_description", &r.job_description),
        &r.job_description,
    );
    let type_state = format!("{} · {} · priority {}", r.job_type, r.job_state, r.priority);
    t.kv("type/state", &job("", &type_state));
    t.kv("notify flags", &job("flags", &r.flags));
    let cmd_style = if r.job_command.is_empty() {
        Style::default()
    } else {
        Style::default().fg(DANGER).add_modifier(Modifier::BOLD)
    };
    for (l, f, v) in [
        ("notify command", "job_command", &r.job_command),
        ("notify args", "job_arguments", &r.job_arguments),
    ] {
        t.field_spans(l, vec![esc_styled(&job(f, v), cmd_style)], v);
    }
    t.field_as(
        "notify program",
        &job("target_path", &r.target_path),
        &r.target_path,
    );
    for (l, v) in [
        ("created", &r.created),
        ("modified", &r.modified),
        ("completed", &r.completed),
        ("expiration", &r.expiration),
    ] {
        // Shown in the zone chosen (with the UTC text beside it); `y` copies the UTC text.
        t.field_as(l, &job(l, &zone.detail(v)), v);
    }
    let errors = format!(
        "{} · transient {} · timeout {} s · retry delay {} s",
        known("error_count", &r.error_count.to_string()),
        known(
            "transient_error_count",
            &r.transient_error_count.to_string()
        ),
        known("timeout", &r.timeout.to_string()),
        known("retry_delay", &r.retry_delay.to_string())
    );
    t.kv("errors", &job("", &errors));
    t.kv("http method", &job("http_method", &r.http_method));
}

/// A URL whose host holds non-ASCII letters: the host as held and as a resolver asks for
/// it (`xn--` Punycode labels), so a look-alike reads as what it is.
fn idn_line(t: &mut Text, url: &str) {
    let Some(host) = crate::bits::triage::url_host(url) else {
        return;
    };
    if let Some(ascii) = crate::util::punycode::host_to_ascii(host) {
        t.kv("IDN host", &format!("{host} = {ascii}"));
    }
}

fn file_section(t: &mut Text, r: &BitsInfo) {
    t.push(section("File"));
    let known = |f: &str, v: &str| display::or_unknown(r, f, v.to_string());
    for (l, f, v) in [
        ("file id", "file_id", &r.file_id),
        ("url", "url", &r.url),
        ("local path", "full_path", &r.full_path),
        ("file name", "filename", &r.filename),
        ("temp path", "tmp_fullpath", &r.tmp_fullpath),
    ] {
        t.field_as(l, &known(f, v), v);
        if f == "url" {
            idn_line(t, v);
        }
    }
    t.kv("volume", &known("volume", &r.volume));
    t.kv("drive", &known("drive", &r.drive));
    let total = if r.bytes_transferred == u64::MAX {
        "unknown".to_string()
    } else {
        known("bytes_transferred", &r.bytes_transferred.to_string())
    };
    t.kv(
        "bytes",
        &format!(
            "{} downloaded of {total}",
            known("bytes_downloaded", &r.bytes_downloaded.to_string())
        ),
    );
    t.field_as(
        "remote modified",
        &known("remote_modified", &r.remote_modified),
        &r.remote_modified,
    );
}

/// The job's story (`bits::story`): every fact in time order, what it says, its source,
/// where exactly (log record, hive key, MFT entry) and how it was joined.
fn story_section(t: &mut Text, r: &BitsInfo) {
    if r.story.is_empty() {
        return;
    }
    t.push(section(&format!(
        "Story ({} fact{})",
        r.story.len(),
        display::plural(r.story.len())
    )));
    for f in &r.story {
        let when = if f.time.is_empty() {
            "(no time)".to_string()
        } else {
            super::columns::time_cell(&f.time)
        };
        t.push(Line::from(vec![
            Span::raw(format!(" {when:<20} ")),
            esc_styled(&f.what, Style::default().add_modifier(Modifier::BOLD)),
            esc_styled(&format!(" · {}", f.source), Style::default().fg(ACCENT)),
        ]));
        if !f.detail.is_empty() {
            t.push(Line::from(vec![Span::raw("      "), esc(&f.detail)]));
        }
        let place = match (f.provenance.is_empty(), f.join.is_empty()) {
            (false, false) => format!("{} · joined by {}", f.provenance, f.join),
            (false, true) => f.provenance.clone(),
            (true, false) => format!("joined by {}", f.join),
            (true, true) => continue,
        };
        t.push(Line::from(vec![
            Span::raw("      "),
            esc_styled(&place, Style::default().fg(DIM)),
        ]));
    }
}

/// `  (SYSTEM)` after a well-known SID.
fn sid_name(sid: &str) -> Span<'static> {
    let name = well_known_name(sid)
        .map(|n| format!("  ({n})"))
        .unwrap_or_default();
    Span::styled(name, Style::default().fg(LIVE))
}

fn owner_section(t: &mut Text, r: &BitsInfo) {
    t.push(section("Owner and SIDs"));
    t.field_spans(
        "owner",
        vec![esc(&r.owner_sid), sid_name(&r.owner_sid)],
        &r.owner_sid,
    );
    // The owner's name as the evidence gives it (the SAM, ProfileList, the event log's
    // owner, a path hint): where it came from is the story's `owner account` fact.
    if !r.owner_account.is_empty() {
        let from = r
            .story
            .iter()
            .find(|f| f.what.starts_with("owner account"))
            .map(|f| format!("  (from {})", f.source))
            .unwrap_or_default();
        t.field_spans(
            "account",
            vec![
                esc(&r.owner_account),
                Span::styled(
                    display::escape(&from).into_owned(),
                    Style::default().fg(DIM),
                ),
            ],
            &r.owner_account,
        );
    }
    for (i, sid) in r.additional_sids.iter().enumerate() {
        // Later SIDs are printed under the first, with an empty label.
        let l = if i == 0 { "additional SIDs" } else { "" };
        t.field_spans(l, vec![esc(sid), sid_name(sid)], sid);
    }
}

fn short_ace_type(t: &str) -> &str {
    t.strip_suffix("AceType")
        .or_else(|| t.strip_suffix("Ace"))
        .unwrap_or(t)
}

/// The ACL as a table (type, principal, SID, flags, mask, rights), then the SDDL.
fn acl_section(t: &mut Text, r: &BitsInfo) {
    t.push(section(&format!("ACL ({} entries)", r.acls.len())));
    if !r.acls.is_empty() {
        t.push(Line::from(Span::styled(
            format!(
                " {:<3}{:<22}{:<34}{}",
                "#", "type", "principal", "sid · flags · mask"
            ),
            Style::default().add_modifier(Modifier::UNDERLINED),
        )));
    }
    for (i, a) in r.acls.iter().enumerate() {
        let principal = if a.account.is_empty() {
            "(no well-known name)".to_string()
        } else {
            a.account.clone()
        };
        let ty = short_ace_type(&a.ace_type);
        let ty_style = Style::default().fg(if ty.contains("Denied") { DANGER } else { LIVE });
        let flags = if a.flags.is_empty() {
            "-".to_string()
        } else {
            a.flags.join("|")
        };
        t.push(Line::from(vec![
            Span::raw(format!(" {:<3}", i + 1)),
            esc_styled(&format!("{ty:<22}"), ty_style),
            esc(&format!("{principal:<34}")),
            esc(&format!("{} · {flags} · {:#010x}", a.sid, a.mask)),
        ]));
        t.push(Line::from(vec![
            Span::raw("    rights: "),
            esc(&a.access_rights.join(", ")),
        ]));
        if !a.object_type_guid.is_empty() || !a.inherited_object_type_guid.is_empty() {
            t.push(Line::from(vec![
                Span::raw("    object: "),
                esc(&format!(
                    "{} {} {}",
                    a.object_flags, a.object_type_guid, a.inherited_object_type_guid
                )),
            ]));
        }
    }
    t.field("SDDL", &r.sddl);
}

/// Where the job and file records lie in the evidence; the record's evidence path is the
/// field of the first of them.
fn provenance_section(t: &mut Text, r: &BitsInfo) {
    t.push(section("Provenance"));
    let mut evidence = Some(r.evidence.as_str());
    if let Some(s) = &r.job_source {
        source_lines(t, "job record", s, evidence.take());
    }
    if let Some(s) = &r.file_source {
        source_lines(t, "file record", s, evidence.take());
    }
    if r.versions > 1 {
        t.kv("versions", &format!("{} copies of this job", r.versions));
    }
    if !r.missing_fields.is_empty() {
        t.kv("not recovered", &r.missing_fields.join(", "));
    }
}

/// One source: kind, container and page, the evidence file (the field `evidence` copies when
/// `evidence` is given), the container chain, the byte range and its pieces.
fn source_lines(t: &mut Text, what: &str, s: &Source, evidence: Option<&str>) {
    let kind_color = if s.kind == SourceKind::Carved {
        CARVED
    } else {
        LIVE
    };
    t.push(Line::from(vec![
        label(what),
        Span::styled(s.kind.as_str(), Style::default().fg(kind_color)),
        Span::raw(" · "),
        esc(&s.container),
        Span::raw(match (s.page, s.tag) {
            (Some(p), Some(t)) => format!(" · page {p}, tag {t}"),
            (Some(p), None) => format!(" · page {p}"),
            _ => String::new(),
        }),
    ]));
    match evidence {
        Some(raw) => t.field_as("  evidence", &s.evidence, raw),
        None => t.kv("  evidence", &s.evidence),
    }
    if !s.container_chain.is_empty() {
        t.kv("  inside", &s.container_chain.join(super::origin::STEP));
    }
    // Two places, each named: the offset in the file the chain ends in (the store), and
    // where the bytes lie in the evidence as read (through the containers).
    let file = s
        .container_chain
        .last()
        .map(|f| format!(" in {f}"))
        .unwrap_or_default();
    t.kv(
        if s.container_chain.is_empty() {
            "  bytes"
        } else {
            "  in file"
        },
        &format!(
            "offset {:#x} ({}), {} bytes{file}",
            s.offset, s.offset, s.length
        ),
    );
    if s.extents.len() > 1 {
        let ext: Vec<String> = s
            .extents
            .iter()
            .map(|(o, l)| format!("{o:#x}+{l}"))
            .collect();
        t.kv("  pieces", &ext.join(", "));
    }
    if !s.also_at.is_empty() {
        let at: Vec<String> = s.also_at.iter().map(|o| format!("{o:#x}")).collect();
        t.kv("  also at", &at.join(", "));
    }
    if let Some(p) = &s.in_evidence {
        in_evidence_lines(t, p);
    }
    for c in &s.also_in {
        let what = format!("{} at {:#x} ({})", c.evidence, c.offset, c.kind.as_str());
        t.kv("  also in", &what);
    }
    // Field ranges are decoded from the record's bytes when the hex view opens.
    let fields = if s.fields.is_empty() {
        "annotated in the hex view (x)".to_string()
    } else {
        format!("{} annotated (x opens the hex view)", s.fields.len())
    };
    t.kv("  fields", &fields);
}

/// Where a record's bytes lie in the evidence as read: offset, pieces, copies.
fn in_evidence_lines(t: &mut Text, p: &Placement) {
    let at = match p.offset {
        Some(o) => format!("{}: offset {o:#x} ({o})", p.coordinate),
        None => format!("{}: stored nowhere as read ({})", p.coordinate, p.note),
    };
    t.kv("  in evidence", &at);
    if p.extents.len() > 1 || p.extents_omitted > 0 {
        let mut ext: Vec<String> = p
            .extents
            .iter()
            .map(|x| match x.offset {
                Some(o) => format!("{o:#x}+{}", x.length),
                None => format!("zeros+{}", x.length),
            })
            .collect();
        if p.extents_omitted > 0 {
            ext.push(format!("{} more", p.extents_omitted));
        }
        t.kv("  evidence pieces", &ext.join(", "));
    }
    if !p.also_at.is_empty() {
        let at: Vec<String> = p.also_at.iter().map(|o| format!("{o:#x}")).collect();
        t.kv("  copies at", &at.join(", "));
    }
}

/// A field compared between versions: its label and how to read it.
type VersionField = (&'static str, fn(&BitsInfo) -> String);

/// Job-level fields compared between versions of one job.
const VERSION_FIELDS: [VersionField; 18] = [
    ("state", |r| r.job_state.clone()),
    ("name", |r| r.job_name.clone()),
    ("description", |r| r.job_description.clone()),
    ("notify command", |r| r.job_command.clone()),
    ("notify args", |r| r.job_arguments.clone()),
    ("notify program", |r| r.target_path.clone()),
    ("type", |r| r.job_type.clone()),
    ("priority", |r| r.priority.clone()),
    ("notify flags", |r| r.flags.clone()),
    ("owner", |r| r.owner_sid.clone()),
    ("created", |r| r.created.clone()),
    ("modified", |r| r.modified.clone()),
    ("completed", |r| r.completed.clone()),
    ("expiration", |r| r.expiration.clone()),
    ("errors", |r| {
        format!("{} ({} transient)", r.error_count, r.transient_error_count)
    }),
    ("url", |r| r.url.clone()),
    ("local path", |r| r.full_path.clone()),
    ("security", |r| r.sddl.clone()),
];

/// The copies of a record's job (same job id, distinct job record): (record, offset, carved,
/// what the offset counts). Offsets are in the evidence as read where the record has a place
/// there, else in its store file.
fn versions_of(store: &Store, rec: &Rec) -> Vec<(u32, u64, bool, String)> {
    let id = &rec.info.job_id;
    if id.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<(u32, u64, bool, String)> = Vec::new();
    for (i, r) in store.recs.iter().enumerate() {
        if r.info.job_id != *id {
            continue;
        }
        let Some(s) = &r.info.job_source else {
            continue;
        };
        let (off, what) = match s.in_evidence.as_ref() {
            Some(p) if p.offset.is_some() => (p.offset.unwrap_or(s.offset), p.coordinate.clone()),
            _ => match s.container_chain.last() {
                Some(f) => (s.offset, format!("in {f}")),
                // A bare store: its offsets are the evidence file's.
                None => (s.offset, String::new()),
            },
        };
        if out.iter().any(|(_, o, _, w)| *o == off && *w == what) {
            continue;
        }
        out.push((i as u32, off, r.info.carved, what));
    }
    out
}

/// The file records of other rows that name this record's job (a carved or orphan file row
/// the story tied to the job: see `bits::story`'s `link_file`): the job's payload, where the
/// job record itself no longer lists it.
fn linked_files_section(t: &mut Text, store: &Store, rec: &Rec, ri: u32) {
    let r = &rec.info;
    if r.job_id.is_empty() || r.job_source.is_none() {
        return;
    }
    let linked: Vec<&BitsInfo> = store
        .recs
        .iter()
        .enumerate()
        .filter(|(i, o)| {
            *i != ri as usize
                && o.info.job_id == r.job_id
                && o.info.job_source.is_none()
                && o.info.file_source.is_some()
                && o.info.evidence == r.evidence
        })
        .map(|(_, o)| &o.info)
        .collect();
    if linked.is_empty() {
        return;
    }
    t.push(section(&format!(
        "Files of this job in other records ({})",
        linked.len()
    )));
    for f in linked {
        let (kind, color) = if f.carved {
            ("carved file record", CARVED)
        } else {
            ("file record", LIVE)
        };
        let at = f
            .file_source
            .as_ref()
            .map(|s| format!(" · {} at offset {:#x}", s.container, s.offset))
            .unwrap_or_default();
        t.push(Line::from(vec![
            Span::raw(" "),
            Span::styled(kind, Style::default().fg(color)),
            esc_styled(&at, Style::default().fg(DIM)),
        ]));
        for (l, v) in [
            ("  url", &f.url),
            ("  local path", &f.full_path),
            ("  temp path", &f.tmp_fullpath),
        ] {
            if !v.is_empty() {
                t.kv(l, v);
            }
        }
        if let Some(how) = f.story.iter().find(|x| x.what.starts_with("file of job")) {
            t.kv("  linked by", &format!("{} ({})", how.join, how.detail));
        }
    }
}

/// Every copy of the job, and the compared fields that differ between them.
fn versions_section(t: &mut Text, store: &Store, rec: &Rec, ri: u32) {
    let versions = versions_of(store, rec);
    if versions.len() <= 1 {
        return;
    }
    t.push(section(&format!(
        "Versions of this job ({} copies)",
        versions.len()
    )));
    for (n, (i, off, carved, what)) in versions.iter().enumerate() {
        let this = if *i == ri { "  ← this one" } else { "" };
        t.push(Line::from(vec![
            Span::raw(format!(" #{:<3}", n + 1)),
            Span::styled(
                if *carved { "carved" } else { "live  " },
                Style::default().fg(if *carved { CARVED } else { LIVE }),
            ),
            Span::raw(format!(" @ {off:#x}")),
            esc_styled(
                &if what.is_empty() {
                    String::new()
                } else {
                    format!(" ({what})")
                },
                Style::default().fg(DIM),
            ),
            Span::styled(this, Style::default().add_modifier(Modifier::BOLD)),
        ]));
    }
    let mut differs = false;
    for (name, get) in VERSION_FIELDS {
        let vals: Vec<String> = versions
            .iter()
            .map(|(i, _, _, _)| get(&store.rec(*i).info))
            .collect();
        if vals.iter().all(|v| *v == vals[0]) {
            continue;
        }
        differs = true;
        for (n, v) in vals.iter().enumerate() {
            t.push(Line::from(vec![
                label(if n == 0 { name } else { "" }),
                Span::raw(format!("#{:<3}", n + 1)),
                esc(v),
            ]));
        }
    }
    if !differs {
        t.push(Line::from(" no differences in the compared fields"));
    }
}

fn warnings_section(t: &mut Text, r: &BitsInfo) {
    let warnings = distinct_warnings(r);
    t.push(section(&format!("Warnings ({})", warnings.len())));
    for w in warnings {
        t.push(Line::from(vec![Span::raw(" • "), esc(w)]));
    }
}
