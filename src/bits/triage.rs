//! Triage: which records deserve an analyst's attention, and why.
//!
//! Each [`Rule`] looks at the record's own fields only and says which field and value fired
//! it ([`Finding`]). The rules are for what stock jobs (browser, Office and OS updaters) do not
//! do: run a command when the job ends (T1197), fetch from a bare IP address or an odd port,
//! land an executable, or hide or disguise characters. Who owns a job is not a rule: most
//! updaters run as the user.
//!
//! Everything here reads untrusted text: no indexing, slicing only at char boundaries, and
//! each field is scanned only up to [`MAX_SCAN`] characters. Values are returned raw; the
//! caller escapes them for display.

use std::str::FromStr;

use unicode_normalization::UnicodeNormalization;
use unicode_security::mixed_script::AugmentedScriptSet;
use unicode_security::{skeleton, MixedScript, RestrictionLevel, RestrictionLevelDetection};

use super::model::BitsInfo;
use crate::util::text::is_hidden;

/// The characters of one field the text rules look at: more than any real name, path or URL.
pub const MAX_SCAN: usize = 4096;

/// Why a record deserves attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A notify command is set: BITS runs it when the job ends (MITRE ATT&CK T1197).
    Command,
    /// The URL's host is an IP address (any form), not a name.
    RawIp,
    /// The URL names a port other than its scheme's own.
    OddPort,
    /// The download is an executable or script, by its local name or by its URL.
    Executable,
    /// Controls, bidi overrides or invisible characters in a name, path, URL or command.
    Hidden,
    /// A word mixing scripts as look-alikes do (a Cyrillic `а` among Latin letters: TR39
    /// restriction level above Highly Restrictive), or a URL host label in another script
    /// that reads as a Latin one (`аррӏе.com`).
    LookAlike,
    /// A carved record with a notify command and no live copy of its job (same job id) in the
    /// same evidence file, or for a legacy queue in the same folder's qmgr0.dat/qmgr1.dat
    /// pair (the caller looks it up, see [`assess_with`]): a deleted persistence job.
    DeletedCommand,
    /// What the rest of the evidence says (the record's story, `bits::story`): created by
    /// bitsadmin, PowerShell or desktopimgdownldr (event 3's process); the notify program
    /// failing and BITS retrying (events 63/64); a job gone from the queue, known from the
    /// log, that had a notify command; the payload missing from disk or deleted (MFT). The
    /// finding's note says which.
    Story,
}

impl Rule {
    /// In the order the Flags column lists their codes: a deleted persistence job first,
    /// since a narrow column keeps only the first code whole.
    pub const ALL: [Rule; 8] = [
        Rule::DeletedCommand,
        Rule::Story,
        Rule::Command,
        Rule::RawIp,
        Rule::OddPort,
        Rule::Executable,
        Rule::LookAlike,
        Rule::Hidden,
    ];

    /// The short code of the explorer's Flags column.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Command => "cmd",
            Rule::RawIp => "ip",
            Rule::OddPort => "port",
            Rule::Executable => "exe",
            Rule::Hidden => "hid",
            Rule::LookAlike => "mix",
            Rule::DeletedCommand => "del",
            Rule::Story => "sty",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rule::Command => "notify command",
            Rule::RawIp => "URL by IP address",
            Rule::OddPort => "non-standard port",
            Rule::Executable => "executable download",
            Rule::Hidden => "hidden characters",
            Rule::LookAlike => "look-alike characters",
            Rule::DeletedCommand => "deleted job with a notify command",
            Rule::Story => "the story (event log, disk)",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            Rule::Command => {
                "a notify command is set: BITS runs it when the job ends (T1197 persistence)"
            }
            Rule::RawIp => "the URL names an IP address (dotted, single-number, octal, hex or IPv6)",
            Rule::OddPort => "the URL names a port other than its scheme's own (80 for http, 443 for https)",
            Rule::Executable => {
                "the download is an executable or script, by its local name or by its URL; not Chrome's or Edge's updater downloading its own installer (gvt1.com, dl.google.com, delivery.mp.microsoft.com, edge.microsoft.com with the updater's file name: both together)"
            }
            Rule::Hidden => {
                "a name, path, URL or command holds control, bidi or invisible characters"
            }
            Rule::LookAlike => {
                "a word mixes Latin with Cyrillic, Greek or another look-alike script, or a URL host label reads as a Latin name (TR39)"
            }
            Rule::DeletedCommand => {
                "carved with a notify command and no live copy of the job in the same evidence file (or qmgr0/qmgr1.dat pair): a deleted persistence job"
            }
            Rule::Story => {
                "the event log or the disk says more: created by bitsadmin, PowerShell or desktopimgdownldr; the notify program failing and retried; gone from the queue with a notify command; the payload missing or deleted"
            }
        }
    }

    /// This rule's bit in a small set of rules (`u8`: there are eight).
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The rules that fired, as a bit set of [`Rule::bit`].
pub fn rule_bits(findings: &[Finding]) -> u8 {
    findings.iter().fold(0, |s, f| s | f.rule.bit())
}

/// One rule that fired: on which field (its `parse` output name), what value fired it (raw,
/// escape it to show it), and a short note when the value alone does not say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub field: &'static str,
    pub value: String,
    pub note: String,
}

impl Finding {
    fn new(rule: Rule, field: &'static str, value: &str, note: String) -> Finding {
        Finding {
            rule,
            field,
            value: value.to_string(),
            note,
        }
    }
}

/// Every rule that fires on one record, a carved record taken as having no live copy (see
/// [`assess_with`] for a caller that knows the queue).
pub fn assess(r: &BitsInfo) -> Vec<Finding> {
    assess_with(r, false)
}

/// Every rule that fires on one record; `live_copy`: a live record of the same job exists,
/// so a carved copy is an older version rather than a deleted job.
pub fn assess_with(r: &BitsInfo, live_copy: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some((field, value)) = notify_command(r) {
        out.push(Finding::new(Rule::Command, field, value, String::new()));
        if r.carved && !live_copy {
            out.push(Finding::new(
                Rule::DeletedCommand,
                field,
                value,
                String::new(),
            ));
        }
    }
    url_rules(&r.url, &mut out);
    executable_rules(r, &mut out);
    text_rules(r, &mut out);
    story_rules(r, &mut out);
    out
}

/// The programs whose creating a job is worth a look (event 3's process, lower case).
const CREATORS: [&str; 5] = [
    "bitsadmin.exe",
    "powershell.exe",
    "pwsh.exe",
    "powershell_ise.exe",
    "desktopimgdownldr.exe",
];

/// The [`Rule::Story`] findings: what the record's joined facts say.
fn story_rules(r: &BitsInfo, out: &mut Vec<Finding>) {
    let base = |p: &str| p.rsplit(['\\', '/']).next().unwrap_or(p).to_lowercase();
    let mut notify_failed = false;
    for f in r.story.iter().take(MAX_FACTS) {
        if f.what.ends_with("(event 3)") && CREATORS.contains(&base(&f.value).as_str()) {
            let note = format!("created by {} (event 3)", base(&f.value));
            out.push(Finding::new(Rule::Story, "story", &f.value, note));
        }
        if f.what.ends_with("(event 63)") || f.what.ends_with("(event 64)") {
            notify_failed = true;
            let note = "the notify program failed and BITS retries it (events 63/64)".into();
            out.push(Finding::new(Rule::Story, "story", &f.value, note));
        }
        if f.what == "payload file not in the MFT" {
            let note = "the payload is not on disk: no MFT entry has its path".into();
            out.push(Finding::new(Rule::Story, "full_path", &f.value, note));
        }
        if f.what.starts_with("payload file created") && f.detail.contains(", deleted,") {
            let note = "the payload was deleted from disk (its MFT entry is not in use)".into();
            out.push(Finding::new(Rule::Story, "full_path", &f.value, note));
        }
    }
    let log_only = r
        .job_source
        .as_ref()
        .is_some_and(|s| s.kind == super::model::SourceKind::EventLog);
    let ran = r.story.iter().any(|f| f.join == "notify command");
    if log_only && (notify_failed || ran) {
        let note =
            "gone from the queue, known from the event log, and it had a notify command".into();
        out.push(Finding::new(Rule::Story, "job_id", &r.job_id, note));
    }
}

/// The facts of one record the story rules look at.
const MAX_FACTS: usize = 4096;

/// The notify command, or its arguments when only they are set.
fn notify_command(r: &BitsInfo) -> Option<(&'static str, &str)> {
    [
        ("job_command", r.job_command.as_str()),
        ("job_arguments", r.job_arguments.as_str()),
    ]
    .into_iter()
    .find(|(_, v)| !v.trim().is_empty())
}

// ---------------------------------------------------------------------------------------------
// URL: host and port
// ---------------------------------------------------------------------------------------------

/// The parts of a URL the rules need; `\\host\share\…` (SMB, which BITS also takes) too.
#[derive(Debug, PartialEq, Eq)]
struct UrlParts<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<&'a str>,
    /// The path, without query or fragment.
    path: &'a str,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("\\\\") {
        let (host, path) = rest.split_once(['\\', '/']).unwrap_or((rest, ""));
        return Some(UrlParts {
            scheme: "smb",
            host,
            port: None,
            path,
        });
    }
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = match rest.find(['/', '?', '#', '\\']) {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, ""),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    Some(UrlParts {
        scheme,
        host,
        port,
        path,
    })
}

/// The host of a URL (or of a `\\host\share` path) as the `ip`, `port` and `mix` rules read
/// it; the explorer's `site:` filter term and its pivot on a URL use the same reading.
pub fn url_host(url: &str) -> Option<&str> {
    split_url(url).map(|u| u.host)
}

/// `c` folded to the letter it imitates, lowercase: the TR39 confusable skeleton (the table
/// the `mix` rule reads), taken only where it maps one character to one so positions in a text
/// stay put (`а`, Cyrillic, is `a`). ASCII is only lowercased: its skeleton would merge `l`,
/// `1` and `I`, which an analyst types meaning each.
pub fn fold_look_alike(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut buf = [0u8; 4];
    let mut sk = skeleton(c.encode_utf8(&mut buf));
    match (sk.next(), sk.next()) {
        (Some(one), None) => one.to_lowercase().next().unwrap_or(one),
        _ => c,
    }
}

fn url_rules(url: &str, out: &mut Vec<Finding>) {
    let Some(u) = split_url(url) else {
        return;
    };
    if let Some(form) = ip_form(u.host) {
        out.push(Finding::new(Rule::RawIp, "url", u.host, form.to_string()));
    }
    if let Some(port) = u
        .port
        .filter(|p| !standard_port(u.scheme, p) && !wsus_content(p, u.path))
    {
        out.push(Finding::new(
            Rule::OddPort,
            "url",
            port,
            format!("port {port} for {}", u.scheme),
        ));
    }
}

/// A WSUS client fetching update content: WSUS serves it on ports 8530 (http) and 8531
/// (https) under `/Content/`, and Windows Update downloads it through BITS, so every
/// WSUS-managed machine has such jobs.
fn wsus_content(port: &str, path: &str) -> bool {
    let content = path
        .get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("/content/"));
    content && matches!(port, "8530" | "8531")
}

/// An empty port means the scheme's own; BITS speaks http and https (and SMB, with no port).
fn standard_port(scheme: &str, port: &str) -> bool {
    let Ok(n) = port.parse::<u32>() else {
        return port.is_empty();
    };
    if scheme.eq_ignore_ascii_case("http") {
        n == 80
    } else if scheme.eq_ignore_ascii_case("https") {
        n == 443
    } else {
        n == 80 || n == 443
    }
}

/// How a host names an IP address, if it does: an IPv6 literal, dotted IPv4, or one of the
/// numeric forms URL parsers still accept (`3232235777`, `0xC0A80101`, `0300.0250.1.1`,
/// `127.1`), after the host mapping browsers and WinHTTP apply: `%XX` decoded, NFKC (full-width
/// digits and dots) and ideographic full stops as dots (`２０３。０。１１３。７`).
fn ip_form(host: &str) -> Option<&'static str> {
    // No IP address form is longer, even spelt with escapes or full-width characters.
    if host.len() > 512 {
        return None;
    }
    let host = canonical_host(host);
    let h = host.strip_suffix('.').unwrap_or(&host);
    if h.contains(':') {
        // A zone id (`fe80::1%eth0`) is not part of the address.
        let addr = h.split('%').next().unwrap_or(h);
        return std::net::Ipv6Addr::from_str(addr)
            .is_ok()
            .then_some("IPv6 literal");
    }
    let parts = h.split('.').count();
    if h.is_empty() || parts > 4 || !h.split('.').all(ip_number) {
        return None;
    }
    let plain =
        |p: &str| p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'));
    Some(if parts == 4 && h.split('.').all(plain) {
        "dotted IPv4"
    } else if parts == 1 {
        "IPv4 as one number"
    } else {
        "IPv4 in octal, hex or short form"
    })
}

/// A host as URL parsers read it: percent-decoded, NFKC-normalised, ideographic full stops
/// (U+3002, and U+FF61, which NFKC maps to it) as `.`.
fn canonical_host(host: &str) -> String {
    percent_decoded(host)
        .nfkc()
        .map(|c| if c == '\u{3002}' { '.' } else { c })
        .collect()
}

/// One part of a numeric IPv4 host: decimal, octal (leading 0) or hex (`0x`).
fn ip_number(p: &str) -> bool {
    // `get`, not `[..2]`: the host is untrusted text and its first two bytes may be part of
    // one character (`bücher.de`).
    match p.get(..2) {
        Some(x) if x.eq_ignore_ascii_case("0x") => p.bytes().skip(2).all(|b| b.is_ascii_hexdigit()),
        _ => !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()),
    }
}

// ---------------------------------------------------------------------------------------------
// Executable downloads
// ---------------------------------------------------------------------------------------------

/// Extensions Windows runs, installs or opens as code.
const EXEC_EXT: &[&str] = &[
    "exe",
    "dll",
    "scr",
    "com",
    "pif",
    "cpl",
    "sys",
    "msi",
    "msp",
    "msc",
    "msix",
    "msixbundle",
    "appx",
    "appxbundle",
    "bat",
    "cmd",
    "ps1",
    "psm1",
    "psd1",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "hta",
    "lnk",
    "jar",
    "py",
    "sct",
    "inf",
    "reg",
    "application",
    "appref-ms",
    "xll",
];

/// The executable extension of the last component of a path or URL path, if it has one.
/// Windows drops trailing dots and spaces from a name, so `a.exe. ` is an `.exe`.
fn exec_ext(path: &str) -> Option<String> {
    let name = path.rsplit(['\\', '/']).next().unwrap_or(path);
    let (_, ext) = name.trim_end_matches([' ', '.']).rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    EXEC_EXT.contains(&ext.as_str()).then_some(ext)
}

/// The local destination (full path, else file name) and the URL's path, each on its own:
/// `https://x/a.ps1` saved as `a.tmp` fires by its URL. (`target_path` is not looked at: it
/// is the program that made the job, an .exe for every job.) A browser updater's own
/// download (its CDN and its file name together, [`super::updaters`]) does not fire.
fn executable_rules(r: &BitsInfo, out: &mut Vec<Finding>) {
    let host = url_host(bounded(&r.url)).unwrap_or("");
    let updater = |name: &str| super::updaters::is_updater_download(host, name);
    // The extension is at the end: a value longer than MAX_SCAN is read from its end (a
    // 10k-character path ending `.exe` still fires).
    let local = [("full_path", &r.full_path), ("filename", &r.filename)]
        .into_iter()
        .find_map(|(field, v)| Some((field, v, exec_ext(bounded_end(v))?)))
        .filter(|(_, v, _)| !updater(bounded_end(v)));
    if let Some((field, value, ext)) = local {
        out.push(Finding::new(
            Rule::Executable,
            field,
            value,
            format!(".{ext}"),
        ));
    }
    let url_path = url_path_end(&r.url).map(percent_decoded);
    let url_updater = url_path.as_deref().is_some_and(updater);
    if let Some(ext) = url_path
        .as_deref()
        .and_then(exec_ext)
        .filter(|_| !url_updater)
    {
        out.push(Finding::new(
            Rule::Executable,
            "url",
            &r.url,
            format!(".{ext} in the URL path"),
        ));
    }
}

/// The end of a URL's path (at most [`MAX_SCAN`] characters; no query, no fragment):
/// where its file name is, however long the URL.
fn url_path_end(url: &str) -> Option<&str> {
    let parts = split_url(bounded(url))?;
    if bounded(url).len() == url.len() {
        return Some(parts.path);
    }
    // Longer than the scan: the path runs from the end of the authority to the first `?`
    // or `#` of the whole URL (a linear search, no copy).
    let (_, rest) = url.trim().split_once("://")?;
    let start = rest.find(['/', '\\'])?;
    let path = rest.get(start..)?;
    let path = path.split(['?', '#']).next().unwrap_or(path);
    Some(bounded_end(path))
}

/// `%XX` escapes decoded (the path `/a%2Eexe` names `a.exe`); invalid UTF-8 replaced.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        // `i` indexes `b`: the sums below cannot overflow.
        let hex = b
            .get(i.saturating_add(1)..i.saturating_add(3))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i = i.saturating_add(3);
            }
            _ => {
                out.push(c);
                i = i.saturating_add(1);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Hidden and look-alike characters
// ---------------------------------------------------------------------------------------------

/// The first [`MAX_SCAN`] characters of a field (whole when shorter).
fn bounded(s: &str) -> &str {
    match s.char_indices().nth(MAX_SCAN) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// The last [`MAX_SCAN`] characters of a field (whole when shorter).
fn bounded_end(s: &str) -> &str {
    match s.char_indices().rev().nth(MAX_SCAN.saturating_sub(1)) {
        Some((i, _)) => s.get(i..).unwrap_or(s),
        None => s,
    }
}

/// The fields a person reads to judge a job: its names, paths, URL and command.
fn text_fields(r: &BitsInfo) -> [(&'static str, &str); 9] {
    [
        ("job_name", &r.job_name),
        ("job_description", &r.job_description),
        ("url", &r.url),
        ("full_path", &r.full_path),
        ("filename", &r.filename),
        ("tmp_fullpath", &r.tmp_fullpath),
        ("target_path", &r.target_path),
        ("job_command", &r.job_command),
        ("job_arguments", &r.job_arguments),
    ]
}

/// One finding per rule: the first field it fires on, the note naming the others (a hostile
/// value is often copied into every field, and one line says it).
fn text_rules(r: &BitsInfo, out: &mut Vec<Finding>) {
    let mut hidden: Option<Finding> = None;
    let mut look: Option<Finding> = None;
    let (mut hidden_also, mut look_also) = (Vec::new(), Vec::new());
    for (field, value) in text_fields(r) {
        let text = bounded(value);
        if let Some(c) = text.chars().find(|&c| is_hidden(c)) {
            match hidden {
                None => {
                    let note = format!("U+{:04X}", c as u32);
                    hidden = Some(Finding::new(Rule::Hidden, field, value, note));
                }
                Some(_) => hidden_also.push(field),
            }
        }
        if let Some((word, note)) = look_alike_in(field, text) {
            match look {
                None => look = Some(Finding::new(Rule::LookAlike, field, word, note)),
                Some(_) => look_also.push(field),
            }
        }
    }
    for (finding, others) in [(hidden, hidden_also), (look, look_also)] {
        if let Some(mut f) = finding {
            if !others.is_empty() {
                f.note = format!("{}; also in {}", f.note, others.join(", "));
            }
            out.push(f);
        }
    }
}

/// The words of a text: runs of letters, digits and combining marks (so `pаypal.com` gives
/// `pаypal` and `com`, and a decomposed `é` stays in its word).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || is_combining(c)))
        .filter(|w| !w.is_empty())
}

/// The combining diacritical mark blocks (enough to keep decomposed Latin, Greek and
/// Cyrillic letters whole; other marks only split a word, which hides no mix).
fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x300..=0x36F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// The longest word the look-alike checks read: a DNS label is at most 63 characters, and
/// a name a person reads as a word is shorter still. Longer runs are skipped, not cut: the
/// TR39 checks cost hundreds of nanoseconds a character and run on the UI thread.
pub const MAX_WORD: usize = 64;

/// Why a word mixes scripts as a look-alike does, if it does: its TR39 restriction level is
/// above Highly Restrictive. Latin with Han, Kana or Hangul (`微信WeChatSetup`, `資料2024Q1`)
/// is Highly Restrictive and common in names; Latin with Cyrillic or Greek (`pаypal`) is not.
fn mixed_script(word: &str) -> Option<String> {
    if word.is_ascii() || word.chars().nth(MAX_WORD).is_some() {
        return None;
    }
    // Single-script words are fine even when a character is outside the identifier profile
    // (`Datei²`), which alone makes the restriction level Unrestricted.
    let mixed = word.resolve_script_set().is_empty()
        && word.detect_restriction_level() > RestrictionLevel::HighlyRestrictive;
    mixed.then(|| format!("mixes {}: {}", scripts(word), odd_char(word)))
}

/// The character of a mixed word in the script the fewest of its letters share (the
/// Cyrillic `а` of `pаypal`): its code point, script and 1-based place in the word. (No
/// character name: that needs a name table the project does not carry.)
fn odd_char(word: &str) -> String {
    let sets: Vec<(char, AugmentedScriptSet)> = word
        .chars()
        .map(|c| (c, AugmentedScriptSet::for_char(c)))
        .collect();
    let shared = |set: &AugmentedScriptSet| {
        sets.iter()
            .filter(|(_, other)| {
                let mut both = *set;
                both.intersect_with(*other);
                !both.is_empty()
            })
            .count()
    };
    // The letter of the script the fewest others share; of equals, one that is not Latin
    // (`xа`: the Cyrillic `а`, not the Latin `x` first in the word), then the first.
    let latin_set = AugmentedScriptSet::for_char('a');
    let latin = |set: &AugmentedScriptSet| {
        let mut both = *set;
        both.intersect_with(latin_set);
        !both.is_empty()
    };
    let odd = sets
        .iter()
        .enumerate()
        .filter(|(_, (_, set))| !set.is_all())
        .min_by_key(|(i, (_, set))| (shared(set), latin(set), *i));
    match odd {
        Some((i, (c, set))) => format!(
            "U+{:04X} {} at {}",
            *c as u32,
            set.base,
            i.saturating_add(1) // the position of a character in a string
        ),
        None => String::new(),
    }
}

/// A label of the URL's host written wholly in one non-Latin script whose TR39 confusable
/// skeleton is plain ASCII, so it reads as a Latin name (`аррӏе.com`). Only host labels: a
/// Russian or Greek name in a path or a job name (`Вера`, `ΚΑΙ`) is ordinary text. Not when
/// the top-level label is in the label's own script (`.рф`, `.ελ`): that whole name is in it.
fn host_reads_latin(url: &str) -> Option<(&str, String)> {
    let host = split_url(url)?.host;
    let tld = host.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    let tld_set = (!tld.is_ascii()).then(|| tld.resolve_script_set());
    host.split('.').find_map(|label| {
        if label.is_ascii() || label.chars().nth(MAX_WORD).is_some() {
            return None;
        }
        let set = label.resolve_script_set();
        let mut latin = set;
        latin.intersect_with(AugmentedScriptSet::for_char('a'));
        let mut same_as_tld = set;
        if let Some(t) = tld_set {
            same_as_tld.intersect_with(t);
        }
        if set.is_empty() || !latin.is_empty() || (tld_set.is_some() && !same_as_tld.is_empty()) {
            return None;
        }
        let skel: String = skeleton(label).take(MAX_WORD * 4).collect();
        let reads_latin = skel.bytes().any(|b| b.is_ascii_alphabetic())
            && skel.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        reads_latin.then(|| {
            (
                label,
                format!("{} that reads as the Latin \"{skel}\"", scripts(label)),
            )
        })
    })
}

/// The first look-alike of a field: a word mixing scripts, or (in the URL) a host label that
/// reads as Latin.
fn look_alike_in<'a>(field: &str, text: &'a str) -> Option<(&'a str, String)> {
    let mixed = words(text).find_map(|w| mixed_script(w).map(|n| (w, n)));
    mixed.or_else(|| (field == "url").then(|| host_reads_latin(text)).flatten())
}

/// The scripts of a word's letters, in order of first use: `Latin + Cyrillic`.
fn scripts(word: &str) -> String {
    let mut names: Vec<String> = Vec::new();
    for c in word.chars() {
        let set = AugmentedScriptSet::for_char(c);
        if set.is_all() {
            continue;
        }
        let name = set.base.to_string();
        if !names.contains(&name) && names.len() < 4 {
            names.push(name);
        }
    }
    names.join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts() {
        let u = split_url("https://user@[fe80::1]:8443/a/b.exe?x=1#f").unwrap();
        assert_eq!(
            u,
            UrlParts {
                scheme: "https",
                host: "fe80::1",
                port: Some("8443"),
                path: "/a/b.exe"
            }
        );
        let u = split_url("\\\\10.0.0.5\\share\\x.exe").unwrap();
        assert_eq!((u.host, u.path), ("10.0.0.5", "share\\x.exe"));
        assert_eq!(split_url("no scheme here"), None);
    }

    #[test]
    fn percent_escapes_decode_and_bad_ones_stay() {
        assert_eq!(percent_decoded("/a%2Eexe"), "/a.exe");
        assert_eq!(percent_decoded("/a%2"), "/a%2");
        assert_eq!(percent_decoded("%zz%é"), "%zz%é");
        assert_eq!(percent_decoded("%ff"), "\u{fffd}");
    }

    #[test]
    fn the_look_alike_named_is_the_letter_that_is_not_latin() {
        // `updаte`: the Cyrillic а at 4. `xа` and `хa` (one letter of each): the Cyrillic
        // one, wherever it stands (issue 22 saw `U+0078 Latin at 1`). A Latin letter among
        // Cyrillic ones (`сбеp`) is the odd one there.
        let n = mixed_script("upd\u{430}te").expect("mixed");
        assert!(n.ends_with("U+0430 Cyrillic at 4"), "{n}");
        let n = mixed_script("x\u{430}").expect("mixed");
        assert!(n.ends_with("U+0430 Cyrillic at 2"), "{n}");
        let n = mixed_script("\u{445}a").expect("mixed");
        assert!(n.ends_with("U+0445 Cyrillic at 1"), "{n}");
        let n = mixed_script("\u{441}\u{431}\u{435}p").expect("mixed");
        assert!(n.ends_with("U+0070 Latin at 4"), "{n}");
    }

    #[test]
    fn executables_are_found_at_the_end_of_long_values() {
        let long = format!("http://example.org/{}.exe", "a".repeat(10_000));
        let mut r = BitsInfo {
            url: long.clone(),
            ..BitsInfo::default()
        };
        let mut out = Vec::new();
        executable_rules(&r, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].field, "url");
        // A query after the path does not hide it; a query ending `.exe` is not the file.
        r.url = format!("{long}?x={}", "b".repeat(5_000));
        out.clear();
        executable_rules(&r, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        r.url = format!("http://example.org/{}.txt?f=.exe", "a".repeat(10_000));
        out.clear();
        executable_rules(&r, &mut out);
        assert!(out.is_empty(), "{out:?}");
        // A local path.
        r.url.clear();
        r.full_path = format!("C:\\{}\\x.exe", "d".repeat(9_000));
        out.clear();
        executable_rules(&r, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].field, "full_path");
    }

    #[test]
    fn bounded_cuts_on_a_char_boundary() {
        let s = "é".repeat(MAX_SCAN + 10);
        assert_eq!(bounded(&s).chars().count(), MAX_SCAN);
        assert_eq!(bounded("abc"), "abc");
    }
}
