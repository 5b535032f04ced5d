//! The story of a job: what else the evidence says about it, joined to its records.
//!
//! - BITS client events by job id (exact: events 3 (Windows 8+), 4, 5, 59, 60, 61, 16403 carry
//!   the Jobs table's `Id`); Windows 7's event 3 (no job id) by title, the closest one before
//!   the job's first other event (or its queue creation time) within [`TITLE_WINDOW`]; events
//!   63/64 (no job id) by title and URL. A join that is not by id says how it was made.
//! - Accounts by SID from the evidence's own SAM and SOFTWARE hives (never this machine's);
//!   without a hive, the `C:\Users\<name>\` in the job's paths is a labelled hint.
//! - Process runs under the BITS service host (Sysmon 1, Security 4688) whose image and
//!   command line are the job's notify command: evidence that it ran.
//! - Facts about the job's files on disk (MFT, USN), given by the pipeline.
//!
//! Each fact keeps its source and provenance. Jobs found only in the log become rows of their
//! own kind (`event_log`).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::events::{decode_events, runs_notify, BitsEvent, BitsHost, EventKind, ProcessRun};
use super::model::{BitsInfo, Source, SourceKind};
use crate::evtx::{filetime_of, Log};
use crate::hive::accounts::{profiles, sam, Account, AccountSource, Accounts};
use crate::hive::Hive;
use crate::util::guid::Guid;
use crate::util::time::filetime_iso;

/// How far before a job's first event a Windows 7 event 3 may lie to be joined by title.
pub const TITLE_WINDOW: u64 = 7 * 24 * 3600 * 10_000_000;
/// The most events kept from all logs together.
const MAX_EVENTS: usize = 2_000_000;

/// One thing the evidence says about a job, with where it says it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// When (ISO 8601 UTC), empty for a fact without a time (an account name).
    pub time: String,
    /// The same as a FILETIME, for ordering (0 when none).
    pub filetime: u64,
    /// What happened: `job created`, `transfer started`, `$SI created`, ...
    pub what: String,
    /// `queue`, `event log`, `sysmon`, `security log`, `SAM`, `ProfileList`, `job paths`,
    /// `MFT`, `USN journal`.
    pub source: String,
    /// Where exactly: the log and record number and offset, the hive key, the MFT entry, the
    /// USN offset.
    pub provenance: String,
    /// The facts themselves: process, URL, status code, size, ...
    pub detail: String,
    /// How it was tied to the job: `job id`, `title`, `title and url`, `SID`, `path`,
    /// `notify command`, `file guid`.
    pub join: String,
    /// The fact's one value the triage looks at: event 3's creating process, events 63/64's
    /// notify program, a process run's image, a file's path.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub value: String,
}

impl Fact {
    pub fn at(filetime: u64, what: &str, source: &str) -> Fact {
        Fact {
            time: filetime_iso(filetime),
            filetime,
            what: what.to_string(),
            source: source.to_string(),
            ..Fact::default()
        }
    }

    pub fn with(mut self, provenance: String, detail: String, join: &str) -> Fact {
        self.provenance = provenance;
        self.detail = detail;
        self.join = join.to_string();
        self
    }

    pub fn valued(mut self, value: &str) -> Fact {
        self.value = value.to_string();
        self
    }
}

/// Sort facts in time order (those without a time last, in the order given).
pub fn sort(facts: &mut [Fact]) {
    facts.sort_by_key(|f| (f.filetime == 0, f.filetime));
}

/// The queue's own times of a record as facts.
pub fn queue_facts(r: &BitsInfo) -> Vec<Fact> {
    let place = r
        .job_source
        .as_ref()
        .map(|s| format!("{} at offset {}", s.container, s.offset))
        .unwrap_or_default();
    [
        (&r.created, "job created"),
        (&r.modified, "job modified"),
        (&r.completed, "job completed"),
        (&r.remote_modified, "remote file modified"),
    ]
    .into_iter()
    .filter_map(|(t, what)| {
        let ft = filetime_of(t)?;
        Some(Fact::at(ft, what, "queue").with(place.clone(), String::new(), "job id"))
    })
    .collect()
}

/// A log's BITS event or process run, and which log it came from.
#[derive(Debug, Clone)]
struct Placed<T> {
    log: usize,
    item: T,
}

/// Everything beside the stores that tells a job's story.
#[derive(Debug, Default)]
pub struct Story {
    /// The logs read (labels: paths, or container chains).
    pub logs: Vec<String>,
    /// The hives read.
    pub hives: Vec<String>,
    events: Vec<Placed<BitsEvent>>,
    runs: Vec<Placed<ProcessRun>>,
    by_id: HashMap<Guid, Vec<usize>>,
    /// Events without a job id, by title: Windows 7's event 3, and 63/64.
    by_title: HashMap<String, Vec<usize>>,
    /// Transfer events (59, 60, 61) by URL, for files no job claims.
    by_url: HashMap<String, Vec<usize>>,
    pub accounts: Accounts,
    /// Warnings from the logs and hives (label: what).
    pub warnings: Vec<String>,
}

impl Story {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.runs.is_empty() && self.accounts.is_empty()
    }

    /// Add an event log's events (read by `crate::evtx::read`); `label` names it.
    pub fn add_log(&mut self, label: &str, log: Log) {
        let at = self.logs.len();
        self.logs.push(label.to_string());
        for w in log.warnings.iter().take(20) {
            self.warnings.push(format!("{label}: {}", w.what));
        }
        if log.truncated {
            self.warnings.push(format!(
                "{label}: more events than bitscope keeps; the rest were not read"
            ));
        }
        let decoded = decode_events(log.events);
        for e in decoded.bits {
            if self.events.len() >= MAX_EVENTS {
                break;
            }
            let index = self.events.len();
            if let Some(id) = e.job_id {
                self.by_id.entry(id).or_default().push(index);
            }
            let untitled = e.legacy_template
                || matches!(
                    e.kind,
                    EventKind::NotifyFailed | EventKind::NotifyLaunchFailed
                );
            if let (true, Some(t)) = (untitled, &e.title) {
                self.by_title.entry(t.clone()).or_default().push(index);
            }
            let transfer = matches!(
                e.kind,
                EventKind::TransferStarted | EventKind::TransferStopped | EventKind::TransferError
            );
            if let (true, Some(u), Some(_)) = (transfer, &e.url, e.job_id) {
                self.by_url.entry(u.clone()).or_default().push(index);
            }
            self.events.push(Placed { log: at, item: e });
        }
        for r in decoded.runs {
            self.runs.push(Placed { log: at, item: r });
        }
    }

    /// Add a hive's accounts: a SAM's local accounts, a SOFTWARE's profiles (whichever the
    /// hive holds). False when it is neither.
    pub fn add_hive(&mut self, label: &str, bytes: &[u8]) -> bool {
        let Ok(hive) = Hive::open(bytes) else {
            self.warnings.push(format!("{label}: not a registry hive"));
            return false;
        };
        let local = sam(&hive).accounts;
        let profiles = profiles(&hive);
        if local.is_empty() && profiles.is_empty() {
            return false;
        }
        self.hives.push(label.to_string());
        let tag = |mut a: Account| {
            a.key = format!("{label}: {}", a.key);
            a
        };
        self.accounts.add(local.into_iter().map(tag).collect());
        self.accounts.add(profiles.into_iter().map(tag).collect());
        true
    }

    fn where_(&self, p: &Placed<BitsEvent>) -> String {
        let log = self.logs.get(p.log).map(String::as_str).unwrap_or("?");
        format!(
            "{log}: record {} (EventRecordID {}) at offset {}",
            p.item.place.record, p.item.place.event_record_id, p.item.place.offset
        )
    }

    fn event_fact(&self, p: &Placed<BitsEvent>, join: &str) -> Fact {
        let e = &p.item;
        let what = format!("{} (event {})", e.kind.label(), e.event_id);
        let value = e
            .process_path
            .as_deref()
            .or(e.program.as_deref())
            .unwrap_or("");
        Fact::at(e.time, &what, "event log")
            .with(self.where_(p), event_detail(e), join)
            .valued(value)
    }

    /// The events joined to a job: by id, Windows 7's event 3 by title, 63/64 by title and
    /// url. `anchor` is the queue's creation time (0 when unknown).
    fn joined(
        &self,
        id: Option<Guid>,
        title: &str,
        url: &str,
        anchor: u64,
    ) -> Vec<(usize, &'static str)> {
        let mut out: Vec<(usize, &'static str)> = id
            .and_then(|id| self.by_id.get(&id))
            .map(|v| v.iter().map(|&i| (i, "job id")).collect())
            .unwrap_or_default();
        if title.is_empty() {
            return out;
        }
        // The job's first known time: its first event by id, else its queue creation.
        let first = out
            .iter()
            .filter_map(|(i, _)| self.events.get(*i))
            .map(|p| p.item.time)
            .filter(|t| *t > 0)
            .min()
            .or((anchor > 0).then_some(anchor));
        let titled: Vec<(usize, &Placed<BitsEvent>)> = self
            .by_title
            .get(title)
            .map(|v| {
                v.iter()
                    .filter_map(|&i| Some((i, self.events.get(i)?)))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(first) = first {
            let created = titled
                .iter()
                .copied()
                .filter(|(_, p)| p.item.legacy_template)
                .filter(|(_, p)| p.item.time <= first.saturating_add(20_000_000))
                .filter(|(_, p)| first.saturating_sub(p.item.time) <= TITLE_WINDOW)
                .max_by_key(|(_, p)| p.item.time);
            if let Some((i, _)) = created {
                out.push((i, "title (Windows 7 event 3 has no job id): the closest before the job's first event"));
            }
        }
        for (i, p) in titled {
            let e = &p.item;
            if matches!(
                e.kind,
                EventKind::NotifyFailed | EventKind::NotifyLaunchFailed
            ) && (url.is_empty() || e.url.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(url)))
            {
                out.push((i, "title and url (events 63/64 have no job id)"));
            }
        }
        out
    }

    /// Attach what the story knows to a record: its facts (sorted, the queue's own times
    /// among them), the owner's account name. Nothing changes when nothing joins.
    pub fn enrich(&self, r: &mut BitsInfo) {
        let linked = self.link_file(r);
        let id = Guid::parse(&r.job_id);
        let anchor = filetime_of(&r.created).unwrap_or(0);
        // Facts already on the record (the files on disk, from the image) stay.
        let mut facts = std::mem::take(&mut r.story);
        let had_queue = facts.iter().any(|f| f.source == "queue");
        facts.extend(
            self.joined(id, &r.job_name, &r.url, anchor)
                .into_iter()
                .filter_map(|(i, join)| self.events.get(i).map(|p| self.event_fact(p, join))),
        );
        facts.extend(linked);
        facts.extend(self.notify_runs(r));
        if let Some(account) = self.account_fact(r) {
            facts.push(account);
        }
        if facts.is_empty() {
            return;
        }
        if !had_queue
            && r.job_source
                .as_ref()
                .is_some_and(|s| s.kind != SourceKind::EventLog)
        {
            facts.extend(queue_facts(r));
        }
        sort(&mut facts);
        r.story = facts;
    }

    /// A file no job claims (carved, or its job gone): when the transfer events (59, 60, 61)
    /// of exactly one job name its URL, it is that job's file: the row takes the job's id and
    /// title, and a fact says how. (A Win10+ file record does not hold its own id: the job
    /// lists the ids of the Files rows, which deletion takes away.)
    fn link_file(&self, r: &mut BitsInfo) -> Option<Fact> {
        if !r.job_id.is_empty() || r.url.is_empty() {
            return None;
        }
        let mut ids: Vec<(Guid, &Placed<BitsEvent>)> = self
            .by_url
            .get(&r.url)?
            .iter()
            .filter_map(|&i| self.events.get(i))
            .filter_map(|p| Some((p.item.job_id?, p)))
            .collect();
        ids.sort_by_key(|(id, _)| *id);
        ids.dedup_by_key(|(id, _)| *id);
        let [(id, p)] = ids.as_slice() else {
            return None;
        };
        r.job_id = id.to_string();
        if r.job_name.is_empty() {
            r.job_name = p.item.title.clone().unwrap_or_default();
        }
        let what = format!("file of job {id}");
        Some(Fact::at(0, &what, "event log").with(
            self.where_(p),
            format!(
                "the job's event {} names this file's url {}",
                p.item.event_id, r.url
            ),
            "url (the only job whose transfer events name it)",
        ))
    }

    /// The owner's account name from the hives (or a hint from the job's paths).
    fn account_fact(&self, r: &mut BitsInfo) -> Option<Fact> {
        if r.owner_sid.is_empty() {
            return None;
        }
        match self.accounts.lookup(&r.owner_sid) {
            Some(a) if a.source != AccountSource::WellKnown => {
                r.owner_account = a.name.clone();
                let source = match a.source {
                    AccountSource::Sam => "SAM",
                    _ => "ProfileList",
                };
                let detail = format!("{} is {}", a.sid, a.name);
                Some(Fact::at(0, "owner account", source).with(a.key, detail, "SID"))
            }
            Some(_) => None,
            None if r.owner_account.is_empty() && !self.is_empty() => {
                let name = user_of_paths(&[&r.full_path, &r.tmp_fullpath, &r.target_path])?;
                let detail = format!("{} may be {name} (no hive names this SID)", r.owner_sid);
                Some(Fact::at(0, "owner account (hint)", "job paths").with(
                    format!("C:\\Users\\{name}\\ in the job's paths"),
                    detail,
                    "path",
                ))
            }
            None => None,
        }
    }

    /// Process runs that were this job's notify command.
    fn notify_runs(&self, r: &BitsInfo) -> Vec<Fact> {
        let program = if r.target_path.is_empty() {
            first_token(&r.job_command)
        } else {
            r.target_path.clone()
        };
        if program.is_empty() {
            return Vec::new();
        }
        self.runs
            .iter()
            .filter(|p| runs_notify(&p.item, &program, &r.job_arguments))
            .map(|p| {
                let run = &p.item;
                let log = self.logs.get(p.log).map(String::as_str).unwrap_or("?");
                let source = if run.event_id == 4688 {
                    "security log"
                } else {
                    "sysmon"
                };
                let host = match run.host {
                    BitsHost::Named => "parent svchost -s BITS",
                    BitsHost::SharedNetsvcs => {
                        "parent the shared svchost -k netsvcs (BITS on Windows 7, among others)"
                    }
                };
                Fact::at(
                    run.time,
                    &format!("notify command ran (event {})", run.event_id),
                    source,
                )
                .with(
                    format!(
                        "{log}: record {} (EventRecordID {}) at offset {}",
                        run.place.record, run.place.event_record_id, run.place.offset
                    ),
                    format!(
                        "{} {} (pid {}); {host}",
                        run.image,
                        run.command_line,
                        run.process_id.map_or("?".into(), |p| p.to_string())
                    ),
                    "notify command",
                )
            })
            .collect()
    }

    /// Rows for the jobs the logs know and the stores do not (`seen`: the job ids of the
    /// records made), one per job, with its whole story.
    pub fn log_only(&self, seen: &HashSet<Guid>) -> Vec<BitsInfo> {
        let mut ids: Vec<&Guid> = self.by_id.keys().filter(|id| !seen.contains(id)).collect();
        ids.sort_by_key(|id| {
            self.by_id
                .get(*id)
                .and_then(|v| v.first())
                .and_then(|&i| self.events.get(i))
                .map_or(0, |p| p.item.time)
        });
        ids.into_iter()
            .filter_map(|id| self.log_only_row(*id))
            .collect()
    }

    fn log_only_row(&self, id: Guid) -> Option<BitsInfo> {
        let events: Vec<&Placed<BitsEvent>> = self
            .by_id
            .get(&id)?
            .iter()
            .filter_map(|&i| self.events.get(i))
            .collect();
        let first = *events.first()?;
        let pick =
            |f: &dyn Fn(&BitsEvent) -> Option<String>| events.iter().find_map(|p| f(&p.item));
        let mut r = BitsInfo {
            job_id: id.to_string(),
            job_name: pick(&|e| e.title.clone()).unwrap_or_default(),
            url: pick(&|e| e.url.clone()).unwrap_or_default(),
            bytes_transferred: pick(&|e| e.bytes_total.map(|n| n.to_string()))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            created: events
                .iter()
                .find(|p| p.item.kind == EventKind::Created)
                .map(|p| filetime_iso(p.item.time))
                .unwrap_or_default(),
            job_state: "(in the event log only)".into(),
            owner_account: pick(&|e| e.owner.clone()).unwrap_or_default(),
            target_path: String::new(),
            evidence: self.logs.get(first.log).cloned().unwrap_or_default(),
            job_source: Some(Source {
                evidence: self.logs.get(first.log).cloned().unwrap_or_default(),
                offset: first.item.place.offset,
                length: first.item.place.length,
                kind: SourceKind::EventLog,
                container: "evtx:Microsoft-Windows-Bits-Client/Operational".into(),
                ..Source::default()
            }),
            ..BitsInfo::default()
        };
        self.enrich(&mut r);
        Some(r)
    }
}

/// What an event says, in a line.
fn event_detail(e: &BitsEvent) -> String {
    let mut parts = Vec::new();
    if let Some(t) = &e.title {
        parts.push(format!("title {t:?}"));
    }
    if let Some(o) = &e.owner {
        parts.push(format!("owner {o}"));
    }
    if let Some(p) = &e.process_path {
        let pid = e
            .process_id
            .map_or(String::new(), |p| format!(" (pid {p})"));
        parts.push(format!("process {p}{pid}"));
    }
    if let Some(u) = &e.url {
        parts.push(format!("url {u}"));
    }
    if let Some(p) = &e.program {
        parts.push(format!("program {p}"));
    }
    if let Some(ft) = e.file_time {
        parts.push(format!("file time {}", filetime_iso(ft)));
    }
    if let Some(n) = e.bytes_total {
        parts.push(format!("bytes total {n}"));
    }
    if let Some(n) = e.bytes_transferred {
        parts.push(format!("transferred {n}"));
    }
    if let Some(hr) = e.hr {
        parts.push(format!("status {hr:#010x}"));
    }
    parts.join(", ")
}

/// The `<name>` of the first `C:\Users\<name>\` among `paths`.
fn user_of_paths(paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| {
        let lower = p.to_ascii_lowercase();
        let at = lower.find("\\users\\")?.checked_add("\\users\\".len())?;
        let rest = p.get(at..)?;
        let name = rest.split('\\').next()?;
        (!name.is_empty() && !name.eq_ignore_ascii_case("public")).then(|| name.to_string())
    })
}

/// The first token of a command line (quoted or not).
fn first_token(cmd: &str) -> String {
    let cmd = cmd.trim();
    match cmd.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or("").to_string(),
        None => cmd.split_whitespace().next().unwrap_or("").to_string(),
    }
}
