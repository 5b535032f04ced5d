//! The hex view's security-descriptor breakdown: with the cursor in a record's security
//! descriptor, the inspector decodes the whole descriptor (the field's bytes, wherever its
//! pieces lie) and lists, each at its offset in the descriptor, the owner, the group, and each
//! ACE of the DACL and SACL with its type, SID and access mask, so every value the detail pane
//! shows under "Security" can be found in the bytes. Decoding is `winsec`'s own (as `parse`
//! does); the offsets are read here from the header and the ACE sizes (MS-DTYP 2.4.6, 2.4.5,
//! 2.4.4.1), bounded by the bytes present.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::util::bytes::{u16_le, u32_le, u8_at};
use crate::winsec::{parse_security_descriptor, well_known_name, AccessControl};

use super::app::App;
use super::hex::{read_medium, HexState};
use super::style::{esc, ACCENT, DANGER, DIM};

/// The annotated field holding the descriptor (see `bits::job`'s `take`).
const FIELD: &str = "security descriptor";

/// The pieces (file start, end) of the field under the cursor when it is the security
/// descriptor, in record order.
fn descriptor_pieces(h: &HexState) -> Option<Vec<(u64, u64)>> {
    let fi = h.field_at(h.cursor)?;
    if h.field_names.get(fi).map(String::as_str) != Some(FIELD) {
        return None;
    }
    Some(
        h.fields
            .iter()
            .filter(|x| x.2 == fi)
            .map(|&(s, e, _)| (s, e))
            .collect(),
    )
}

/// A descriptor is at most this long (its offsets are 32-bit, but BITS's are a few hundred
/// bytes): what is read for the breakdown.
const MAX_DESCRIPTOR: u64 = 64 * 1024;

impl App {
    /// With the cursor in the security descriptor, read its bytes whole (each piece, read-only,
    /// at most [`MAX_DESCRIPTOR`]) once; elsewhere, forget them.
    pub(super) fn load_descriptor(&mut self) {
        let Some(pieces) = descriptor_pieces(&self.hex) else {
            self.hex.descriptor = None;
            return;
        };
        let Some(&(first, _)) = pieces.first() else {
            return;
        };
        if self.hex.descriptor.as_ref().is_some_and(|d| d.0 == first) {
            return;
        }
        let Some(ev) = self.evidence_handle(&self.hex.evidence) else {
            return;
        };
        let mut bytes = Vec::new();
        for (s, e) in pieces {
            let room = MAX_DESCRIPTOR.saturating_sub(bytes.len() as u64);
            let len = e.saturating_sub(s).min(room);
            match read_medium(&ev, &self.hex.coordinate, s, len) {
                Ok(b) => bytes.extend_from_slice(&b),
                Err(_) => return,
            }
        }
        self.hex.descriptor = Some((first, bytes));
    }
}

/// The descriptor's bytes, when the cursor is in it and they were read.
fn descriptor_bytes(h: &HexState) -> Option<&[u8]> {
    let first = descriptor_pieces(h)?.first()?.0;
    h.descriptor
        .as_ref()
        .filter(|d| d.0 == first)
        .map(|d| d.1.as_slice())
}

/// The offsets of an ACL's ACEs: the ACL header is 8 bytes (revision, pad, size u16, count
/// u16, pad), each ACE gives its size at +2. At most `count` and never past the buffer.
fn ace_offsets(sd: &[u8], acl: usize, count: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = acl.saturating_add(8);
    for _ in 0..count {
        let Some(size) = u16_le(sd, at.saturating_add(2)) else {
            break;
        };
        out.push(at);
        if size < 4 {
            break;
        }
        at = at.saturating_add(usize::from(size));
    }
    out
}

/// `S-1-5-18 (SYSTEM)`.
fn sid_label(sid: &str) -> String {
    match well_known_name(sid) {
        Some(n) => format!("{sid} ({n})"),
        None => sid.to_string(),
    }
}

/// `AccessAllowedAceType` as `allow`, the rest shortened the same way.
fn ace_kind(a: &AccessControl) -> String {
    let t = a.ace_type.trim_end_matches("AceType");
    match t {
        "AccessAllowed" => "allow".into(),
        "AccessDenied" => "deny".into(),
        "SystemAudit" => "audit".into(),
        "SystemMandatoryLabel" => "label".into(),
        other => other.to_string(),
    }
}

fn row(off: Option<usize>, key: &str, value: &str) -> Line<'static> {
    let at = off.map_or_else(|| "      ".to_string(), |o| format!("+{o:<5x}"));
    Line::from(vec![
        Span::styled(at, Style::default().fg(DIM)),
        Span::styled(format!("{key:<8}"), Style::default().fg(ACCENT)),
        esc(value),
    ])
}

/// The breakdown lines, or none when the cursor is not in a security descriptor.
pub fn lines(h: &HexState) -> Vec<Line<'static>> {
    let Some(sd) = descriptor_bytes(h) else {
        return Vec::new();
    };
    let mut out = vec![Line::from(Span::styled(
        format!("security descriptor ({} bytes; +offsets in it)", sd.len()),
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    let d = match parse_security_descriptor(sd) {
        Ok(d) => d,
        Err(e) => {
            out.push(Line::from(Span::styled(
                format!("not decoded: {e}"),
                Style::default().fg(DANGER),
            )));
            return out;
        }
    };
    let at = |o: usize| {
        u32_le(sd, o)
            .and_then(|v| usize::try_from(v).ok())
            .filter(|&v| v != 0)
    };
    out.push(row(
        Some(0),
        "control",
        &format!(
            "rev {} · {:#06x} {}",
            u8_at(sd, 0).unwrap_or(0),
            d.control,
            d.control_flags().join("|")
        ),
    ));
    for (key, off, sid) in [("owner", 4, &d.owner), ("group", 8, &d.group)] {
        let shown = sid.as_deref().map_or_else(|| "none".into(), sid_label);
        out.push(row(at(off), key, &shown));
    }
    for (name, off, acl) in [("DACL", 16, &d.dacl), ("SACL", 12, &d.sacl)] {
        let Some(aces) = acl else {
            continue;
        };
        let start = at(off);
        out.push(row(start, name, &format!("{} ACEs", aces.len())));
        let offsets = start.map_or_else(Vec::new, |s| ace_offsets(sd, s, aces.len()));
        for (i, a) in aces.iter().enumerate() {
            out.push(row(
                offsets.get(i).copied(),
                &format!(" ACE {}", i + 1),
                &format!(
                    "{} {} mask {:#010x}{}",
                    ace_kind(a),
                    sid_label(&a.sid),
                    a.mask,
                    if a.flags.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", a.flags.join(","))
                    }
                ),
            ));
        }
    }
    for w in &d.warnings {
        out.push(Line::from(Span::styled(
            format!("warning: {w}"),
            Style::default().fg(DANGER),
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ace_offsets_stay_in_the_bytes() {
        // An ACL at 20 with two ACEs of 20 and 24 bytes.
        let mut sd = vec![0u8; 80];
        sd[28 + 2] = 20;
        sd[48 + 2] = 24;
        assert_eq!(ace_offsets(&sd, 20, 2), vec![28, 48]);
        // A count past the bytes, a size under 4: cut, no panic.
        assert_eq!(ace_offsets(&sd, 20, 1000).len(), 3);
        assert_eq!(ace_offsets(&sd, usize::MAX - 2, 5), Vec::<usize>::new());
        let zero = vec![0u8; 40];
        assert_eq!(ace_offsets(&zero, 0, 100), vec![8]);
    }
}
