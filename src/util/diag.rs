//! Diagnostics: what was wrong with the evidence and where, carried as a value from the reader
//! that saw it (ESE, containers, decoders) through the pipeline to the sinks, which show it
//! (stderr, the explorer's diagnostics) or keep it (reports, a record's `diagnostics`).
//!
//! The text says what happened in words an analyst reads; the fields say where, so a tool can
//! go to the bytes without parsing the text: the byte offset in the file the reader read, the
//! ESE page and tag, and the containers that file lies in.

use serde::Serialize;

/// Something wrong with the evidence that did not stop the reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// What was wrong, as raw text (escaped where it is shown).
    pub what: String,
    /// The byte offset it is about, in the file the reader read (the store, or the image for
    /// the container layer), when one place is meant. Shown before the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The ESE page (and tag in it) the reader was in. Not shown: the ESE reader's texts name
    /// their page themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<u32>,
    /// The containers the file lies in, outermost first (as in a record's provenance); shown
    /// first, joined by ` > `.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic about the evidence as a whole (or whose text names its own place).
    pub fn new(what: impl Into<String>) -> Diagnostic {
        Diagnostic {
            what: what.into(),
            ..Diagnostic::default()
        }
    }

    /// A diagnostic about the bytes at `offset` (an offset that does not fit is left out).
    pub fn at(offset: impl TryInto<u64>, what: impl Into<String>) -> Diagnostic {
        Diagnostic {
            offset: offset.try_into().ok(),
            ..Diagnostic::new(what)
        }
    }

    /// This diagnostic, about ESE page `page`.
    pub fn in_page(mut self, page: u32) -> Diagnostic {
        self.page = Some(page);
        self
    }

    /// This diagnostic, about tag `tag` of its page.
    pub fn with_tag(mut self, tag: u32) -> Diagnostic {
        self.tag = Some(tag);
        self
    }

    /// This diagnostic, about a file inside the containers `chain` (outermost first); a chain
    /// it already has stays innermost.
    pub fn within(mut self, chain: &[String]) -> Diagnostic {
        let inner = std::mem::take(&mut self.chain);
        self.chain = chain.iter().cloned().chain(inner).collect();
        self
    }
}

impl From<String> for Diagnostic {
    fn from(what: String) -> Diagnostic {
        Diagnostic::new(what)
    }
}

impl From<&str> for Diagnostic {
    fn from(what: &str) -> Diagnostic {
        Diagnostic::new(what)
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.chain.is_empty() {
            write!(f, "{}: ", self.chain.join(" > "))?;
        }
        match self.offset {
            Some(o) => write!(f, "at offset {o} ({o:#x}): {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_chain_then_offset_then_text_and_keeps_each_as_a_field() {
        let d = Diagnostic::at(4096u64, "bad marker")
            .in_page(3)
            .within(&["v.img".to_string(), "NTFS".to_string()]);
        assert_eq!(
            d.to_string(),
            "v.img > NTFS: at offset 4096 (0x1000): bad marker"
        );
        assert_eq!((d.offset, d.page, d.tag), (Some(4096), Some(3), None));
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"what":"bad marker","offset":4096,"page":3,"chain":["v.img","NTFS"]}"#
        );
        assert_eq!(Diagnostic::at(-1i64, "x").offset, None);
    }
}
