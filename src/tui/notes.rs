//! The analyst's notes and tags on records (`a`), and the key that names a record across
//! runs: a case file ([`super::case`]) keeps marks, notes and tags by that key, since the
//! records' numbers in the store depend on the order the worker read them.

use std::collections::HashMap;

use crate::bits::model::{BitsInfo, Source};

/// The longest note kept (characters); the rest of a longer one is dropped.
pub const MAX_NOTE: usize = 4096;
/// The most tags one record keeps, and the longest tag (characters).
pub const MAX_TAGS: usize = 32;
pub const MAX_TAG: usize = 64;

/// A record's note and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    pub note: String,
    pub tags: Vec<String>,
}

impl Annotation {
    /// What the analyst typed: words starting with `#` are tags (without the `#`), the rest is
    /// the note. Bounded, and each tag once.
    pub fn parse(line: &str) -> Annotation {
        let mut note: Vec<&str> = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        for w in line.split_whitespace() {
            match w.strip_prefix('#').filter(|t| !t.is_empty()) {
                Some(t) => add_tag(&mut tags, t),
                None => note.push(w),
            }
        }
        Annotation {
            note: bounded(&note.join(" "), MAX_NOTE),
            tags,
        }
    }

    /// The line the note prompt starts from (what [`Annotation::parse`] reads back).
    pub fn line(&self) -> String {
        let tags = self.tags.iter().map(|t| format!("#{t}"));
        let mut parts: Vec<String> = Vec::new();
        if !self.note.is_empty() {
            parts.push(self.note.clone());
        }
        parts.extend(tags);
        parts.join(" ")
    }

    pub fn is_empty(&self) -> bool {
        self.note.is_empty() && self.tags.is_empty()
    }

    /// The same, bounded as a typed one is (a case file is untrusted).
    pub fn bounded(note: &str, tags: &[String]) -> Annotation {
        let mut out = Vec::new();
        for t in tags.iter().take(MAX_TAGS * 4) {
            let t = t.split_whitespace().collect::<Vec<_>>().join("-");
            let t = t.trim_start_matches('#');
            if !t.is_empty() {
                add_tag(&mut out, t);
            }
        }
        Annotation {
            note: bounded(note.trim(), MAX_NOTE),
            tags: out,
        }
    }
}

fn add_tag(tags: &mut Vec<String>, t: &str) {
    let t = bounded(t, MAX_TAG);
    if tags.len() < MAX_TAGS && !tags.contains(&t) {
        tags.push(t);
    }
}

fn bounded(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Notes and tags by record key ([`record_key`]): they outlive a reload (`Ctrl-R`), which
/// numbers the records again.
pub type Notes = HashMap<String, Annotation>;

/// Where one source of a record lay: `live@OFFSET+LENGTH` (kind, offset, length), or `-`.
fn place(s: &Option<Source>) -> String {
    match s {
        Some(s) => format!("{}@{}+{}", s.kind.as_str(), s.offset, s.length),
        None => "-".into(),
    }
}

/// A record's name across runs: its evidence (as the Evidence column names it, relative to
/// the folder opened), the store inside an image, where its job and its file records lie,
/// and the job and file ids. The same evidence opened the same way gives every record the
/// same key; two records share one only when they came from the same bytes.
pub fn record_key(evidence_label: &str, r: &BitsInfo) -> String {
    let chain = super::origin::chain(r).join(" > ");
    format!(
        "{evidence_label}|{chain}|{}|{}|{}|{}",
        place(&r.job_source),
        place(&r.file_source),
        r.job_id,
        r.file_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_with_a_hash_are_tags() {
        let a = Annotation::parse("  beacon to #c2 staging #c2 #T1197 # ");
        assert_eq!(a.note, "beacon to staging #");
        assert_eq!(a.tags, vec!["c2", "T1197"]);
        assert_eq!(Annotation::parse(&a.line()), a);
        assert!(Annotation::parse("   ").is_empty());
        let long = "x".repeat(MAX_NOTE * 2);
        assert_eq!(Annotation::parse(&long).note.chars().count(), MAX_NOTE);
        let many: String = (0..100).map(|i| format!("#t{i} ")).collect();
        assert_eq!(Annotation::parse(&many).tags.len(), MAX_TAGS);
    }

    #[test]
    fn the_key_names_the_bytes_a_record_came_from() {
        use crate::bits::model::SourceKind;
        let r = BitsInfo {
            job_id: "{J}".into(),
            file_id: "{F}".into(),
            job_source: Some(Source {
                offset: 4096,
                length: 700,
                kind: SourceKind::Carved,
                ..Source::default()
            }),
            ..BitsInfo::default()
        };
        assert_eq!(
            record_key("HOST-A/qmgr.db", &r),
            "HOST-A/qmgr.db||carved@4096+700|-|{J}|{F}"
        );
    }
}
