//! Triage you can tune (issue 22, item 9): a TOML file with a severity per rule and an
//! allowlist of URL hosts and local paths, applied to what [`super::triage`] found.
//!
//! The file is untrusted: at most [`MAX_FILE`] bytes, [`MAX_ENTRIES`] allow entries and
//! [`MAX_STRING`] bytes a string; unknown keys, wrong types and unknown rule codes are
//! errors (one line, with the line and column), never ignored. The built-in defaults are
//! `assets/triage.toml`, embedded: a user's file starts from them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

use super::model::BitsInfo;
use super::triage::{url_host, Finding, Rule};
use crate::util::text::escape;

/// The largest triage file read.
pub const MAX_FILE: u64 = 1 << 20;
/// The most allow entries a file may have.
pub const MAX_ENTRIES: usize = 10_000;
/// The longest string (host, path, rule code) a file may hold, in bytes.
pub const MAX_STRING: usize = 4096;
/// The built-in defaults, documenting every key.
pub const DEFAULT_TOML: &str = include_str!("../../assets/triage.toml");

/// How much a rule's findings matter; `Off` turns the rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
    Off,
}

impl Severity {
    /// How the detail pane names it before a finding.
    pub fn label(self) -> &'static str {
        match self {
            Severity::High => "suspicious",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Off => "off",
        }
    }
}

/// A parsed triage file on top of the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// By `Rule as usize`.
    severity: [Severity; 8],
    /// Exact hosts (lowercase, no final dot) → the rules silenced for them.
    hosts: HashMap<String, u8>,
    /// `*.NAME` entries by NAME → the rules silenced for names under it.
    under: HashMap<String, u8>,
    /// Path prefixes (lowercase, `/` as `\`) and their rules.
    paths: Vec<(String, u8)>,
}

/// Every rule's bit.
const ALL_RULES: u8 = u8::MAX;

impl Tuning {
    /// Every rule high, nothing allowed: what the defaults are read onto.
    fn base() -> Tuning {
        Tuning {
            severity: [Severity::High; 8],
            hosts: HashMap::new(),
            under: HashMap::new(),
            paths: Vec::new(),
        }
    }

    /// The built-in defaults ([`DEFAULT_TOML`]).
    pub fn builtin() -> &'static Tuning {
        static BUILTIN: OnceLock<Tuning> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut t = Tuning::base();
            // The embedded file is tested to parse (`the_defaults_parse`); were it not to,
            // every rule stays high rather than failing.
            match t.read(DEFAULT_TOML) {
                Ok(()) => t,
                Err(_) => Tuning::base(),
            }
        })
    }

    /// The defaults with `text` (a triage file's contents) read onto them.
    pub fn parse(text: &str) -> Result<Tuning, String> {
        let mut t = Tuning::builtin().clone();
        t.read(text)?;
        Ok(t)
    }

    /// Read a triage file: a one-line error naming it on any fault.
    pub fn load(path: &Path) -> Result<Tuning, String> {
        let name = escape(&path.display().to_string()).into_owned();
        let bytes = crate::input::read_small(path, MAX_FILE.saturating_add(1))
            .map_err(|e| format!("--triage {name}: {}", one_line(&e.to_string())))?;
        if bytes.len() as u64 > MAX_FILE {
            return Err(format!("--triage {name}: larger than {MAX_FILE} bytes"));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "--triage {name}: not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        Tuning::parse(&text).map_err(|e| format!("--triage {name}: {e}"))
    }

    /// How much `rule`'s findings matter.
    pub fn severity(&self, rule: Rule) -> Severity {
        self.severity
            .get(rule as usize)
            .copied()
            .unwrap_or(Severity::High)
    }

    /// `findings` (of `r`) less the rules turned off and those the allowlist silences for it.
    pub fn apply(&self, r: &BitsInfo, mut findings: Vec<Finding>) -> Vec<Finding> {
        if findings.is_empty() {
            return findings;
        }
        let allowed = self.allowed(r);
        findings.retain(|f| self.severity(f.rule) != Severity::Off && allowed & f.rule.bit() == 0);
        findings
    }

    /// The rules the allowlist silences for `r`, as a bit set.
    fn allowed(&self, r: &BitsInfo) -> u8 {
        let mut bits = 0;
        if !self.hosts.is_empty() || !self.under.is_empty() {
            // No host is longer than a DNS name's 253 characters; a longer one matches none.
            if let Some(host) = url_host(&r.url).filter(|h| h.len() <= 1024) {
                let host = host.trim_end_matches('.').to_lowercase();
                bits |= self.hosts.get(&host).copied().unwrap_or(0);
                for (i, _) in host.match_indices('.') {
                    let tail = host.get(i.saturating_add(1)..).unwrap_or("");
                    bits |= self.under.get(tail).copied().unwrap_or(0);
                }
            }
        }
        let local = if r.full_path.is_empty() {
            &r.filename
        } else {
            &r.full_path
        };
        for (prefix, rules) in &self.paths {
            if starts_with_folded(local, prefix) {
                bits |= rules;
            }
        }
        bits
    }

    /// Read one file's keys onto `self`.
    fn read(&mut self, text: &str) -> Result<(), String> {
        let file: File = toml::from_str(text).map_err(|e| {
            let (line, col) = line_col(text, e.span().map_or(0, |s| s.start));
            format!("line {line}, column {col}: {}", one_line(e.message()))
        })?;
        for (code, sev) in file.severity.iter() {
            let rule = rule_of(code)?;
            if let Some(s) = self.severity.get_mut(rule as usize) {
                *s = sev;
            }
        }
        if file.allow.len() > MAX_ENTRIES {
            return Err(format!(
                "{} allow entries: at most {MAX_ENTRIES}",
                file.allow.len()
            ));
        }
        for (n, a) in file.allow.iter().enumerate() {
            self.add(a)
                .map_err(|e| format!("allow entry {}: {e}", n.saturating_add(1)))?;
        }
        Ok(())
    }

    fn add(&mut self, a: &AllowEntry) -> Result<(), String> {
        let rules = match &a.rules {
            None => ALL_RULES,
            Some(codes) if codes.is_empty() => {
                return Err("`rules` is empty (leave it out for every rule)".into())
            }
            Some(codes) => {
                let mut bits = 0;
                for c in codes {
                    bits |= rule_of(c)?.bit();
                }
                bits
            }
        };
        let bounded = |s: &str| {
            if s.len() > MAX_STRING {
                Err(format!(
                    "a string of {} bytes: at most {MAX_STRING}",
                    s.len()
                ))
            } else if s.trim().is_empty() {
                Err("an empty host or path".to_string())
            } else {
                Ok(())
            }
        };
        match (&a.host, &a.path) {
            (Some(h), None) => {
                bounded(h)?;
                let h = h.trim().to_lowercase();
                let (wild, name) = match h.strip_prefix("*.") {
                    Some(name) => (true, name.trim_end_matches('.')),
                    None => (false, h.trim_end_matches('.')),
                };
                if name.is_empty() {
                    return Err("`*.` names no host".into());
                }
                if name.contains('*') {
                    return Err("`*` only as `*.` before a name".into());
                }
                let map = if wild {
                    &mut self.under
                } else {
                    &mut self.hosts
                };
                *map.entry(name.to_string()).or_default() |= rules;
            }
            (None, Some(p)) => {
                bounded(p)?;
                self.paths.push((fold_path(p), rules));
            }
            _ => return Err("give exactly one of `host` and `path`".into()),
        }
        Ok(())
    }
}

/// The file's form; every key named here, any other an error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    severity: Severities,
    #[serde(default)]
    allow: Vec<AllowEntry>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Severities {
    del: Option<Severity>,
    sty: Option<Severity>,
    cmd: Option<Severity>,
    ip: Option<Severity>,
    port: Option<Severity>,
    exe: Option<Severity>,
    mix: Option<Severity>,
    hid: Option<Severity>,
}

impl Severities {
    /// The levels the file sets, by rule code.
    fn iter(&self) -> impl Iterator<Item = (&'static str, Severity)> {
        [
            ("del", self.del),
            ("sty", self.sty),
            ("cmd", self.cmd),
            ("ip", self.ip),
            ("port", self.port),
            ("exe", self.exe),
            ("mix", self.mix),
            ("hid", self.hid),
        ]
        .into_iter()
        .filter_map(|(c, s)| Some((c, s?)))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowEntry {
    host: Option<String>,
    path: Option<String>,
    rules: Option<Vec<String>>,
}

/// The rule a code names (`exe`), or an error listing the codes.
fn rule_of(code: &str) -> Result<Rule, String> {
    Rule::ALL
        .into_iter()
        .find(|r| r.code() == code)
        .ok_or_else(|| {
            let codes: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
            let shown: String = code.chars().take(40).collect();
            format!(
                "unknown rule {:?} (the rules: {})",
                escape(&shown),
                codes.join(", ")
            )
        })
}

/// A path as the allowlist compares it: lowercase, `/` as `\`.
fn fold_path(p: &str) -> String {
    p.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == '/' { '\\' } else { c })
        .collect()
}

/// Does `hay` start with `prefix` (folded by [`fold_path`])? Reads no more of `hay` than
/// the prefix needs.
fn starts_with_folded(hay: &str, prefix: &str) -> bool {
    let mut hay = hay
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == '/' { '\\' } else { c });
    prefix.chars().all(|p| hay.next() == Some(p))
}

/// A message on one line (the toml crate's may span several).
fn one_line(s: &str) -> String {
    let joined: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    escape(&joined.join(" ")).into_owned()
}

/// The 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count().saturating_add(1);
    let col = before
        .rsplit('\n')
        .next()
        .map_or(0, |l| l.chars().count())
        .saturating_add(1);
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::triage::assess;

    fn rec(url: &str, path: &str) -> BitsInfo {
        BitsInfo {
            url: url.into(),
            full_path: path.into(),
            job_command: "cmd.exe".into(),
            ..BitsInfo::default()
        }
    }

    fn codes(t: &Tuning, r: &BitsInfo) -> Vec<&'static str> {
        t.apply(r, assess(r))
            .iter()
            .map(|f| f.rule.code())
            .collect()
    }

    #[test]
    fn the_defaults_parse_and_sty_is_low() {
        let mut t = Tuning::base();
        t.read(DEFAULT_TOML).expect("the embedded defaults parse");
        assert_eq!(&t, Tuning::builtin());
        assert_eq!(t.severity(Rule::Story), Severity::Low);
        assert_eq!(t.severity(Rule::Command), Severity::High);
    }

    #[test]
    fn a_host_entry_silences_its_rules_for_that_host_only() {
        let t = Tuning::parse(
            "[[allow]]\nhost = \"*.Example.com.\"\nrules = [\"port\"]\n[[allow]]\npath = 'C:/Tools/'\nrules = [\"exe\"]\n",
        )
        .unwrap();
        let a = rec("https://cdn.example.com:8443/a.exe", "C:\\tools\\a.exe");
        assert_eq!(codes(Tuning::builtin(), &a), ["cmd", "port", "exe", "exe"]);
        // The port silenced for the host, exe for the path (both of its findings: URL and path
        // are one rule's), cmd kept.
        assert_eq!(codes(&t, &a), ["cmd"]);
        let other = rec("https://cdn.example.org:8443/a.exe", "D:\\a.exe");
        assert_eq!(codes(&t, &other), ["cmd", "port", "exe", "exe"]);
        assert_eq!(codes(Tuning::builtin(), &other), codes(&t, &other));
        // `*.example.com` is not example.com itself, nor a look-alike suffix.
        let bare = rec("https://example.com:8443/", "");
        assert_eq!(codes(&t, &bare), ["cmd", "port"]);
        let evil = rec("https://evilexample.com:8443/", "");
        assert_eq!(codes(&t, &evil), ["cmd", "port"]);
    }

    #[test]
    fn severity_off_removes_a_rule() {
        let t = Tuning::parse("[severity]\ncmd = \"off\"\n").unwrap();
        let a = rec("http://10.0.0.1/", "");
        assert_eq!(codes(&t, &a), ["ip"]);
        assert_eq!(t.severity(Rule::Story), Severity::Low);
    }

    #[test]
    fn wrong_files_are_one_line_errors() {
        for (text, want) in [
            ("[severity]\ncmd = 3\n", "line 2"),
            ("[severity]\nnope = \"high\"\n", "unknown field"),
            ("[severity]\ncmd = \"loud\"\n", "unknown variant"),
            ("[[allow]]\nhost = \"a\"\npath = \"b\"\n", "exactly one"),
            ("[[allow]]\nrules = [\"exe\"]\n", "exactly one"),
            (
                "[[allow]]\nhost = \"a\"\nrules = [\"zzz\"]\n",
                "unknown rule",
            ),
            ("[[allow]]\nhost = \"a\"\nrules = []\n", "empty"),
            ("[[allow]]\nhost = \"*.\"\n", "names no host"),
            ("[[allow]]\nhost = \"*\"\n", "only as"),
            ("allow = 5\n", "line 1"),
        ] {
            let e = Tuning::parse(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let long = format!("[[allow]]\nhost = \"{}\"\n", "a".repeat(MAX_STRING + 1));
        assert!(Tuning::parse(&long).unwrap_err().contains("at most 4096"));
        let many = "[[allow]]\nhost = \"a\"\n".repeat(MAX_ENTRIES + 1);
        assert!(Tuning::parse(&many).unwrap_err().contains("at most 10000"));
        let deep = format!("x = {}{}\n", "[".repeat(50_000), "]".repeat(50_000));
        assert!(Tuning::parse(&deep).is_err());
    }
}
