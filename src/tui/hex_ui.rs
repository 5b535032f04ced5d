//! Drawing the hex view: the record's bytes in the evidence (each annotated field in its own
//! colour, the bytes around the record dim) beside the inspector, which decodes the bytes at
//! the cursor as integers, FILETIME, GUID, SID and UTF-16 and lists the fields.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::util::guid::Guid;
use crate::util::time::filetime_iso;
use crate::winsec::{parse_sid, well_known_name};

use super::app::App;
use super::hex::{HexState, SourceSel};
use super::layout::hex_split;
use super::style::{esc, esc_styled, ACCENT, CARVED, DANGER, DIM, LIVE};
use super::zone::Zone;

const FIELD_COLORS: [Color; 6] = [
    Color::LightBlue,
    Color::LightGreen,
    Color::LightMagenta,
    Color::LightCyan,
    Color::LightRed,
    Color::Yellow,
];

fn utf16_char(lo: u8, hi: u8) -> char {
    let c = char::from_u32(u32::from(u16::from_le_bytes([lo, hi]))).unwrap_or('.');
    // ASCII only: random bytes read as Latin or CJK letters are noise, and every column must
    // stay one cell wide.
    let printable = matches!(c as u32, 0x20..=0x7E);
    if printable {
        c
    } else {
        '.'
    }
}

/// The inspector's UTF-16 reading of the bytes at the cursor, one cell per code unit: ASCII
/// and the letters of the Latin, Greek and Cyrillic blocks as themselves, anything else `·`
/// (the bytes are beside it). Bytes that are not text read as CJK, combining marks or
/// unassigned code points, whose width terminals disagree on: one such character at the
/// right edge shifted the line and left a stale `"` there.
fn utf16_preview(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|c| match c.map(|c| (c, c as u32)) {
            Ok((
                c,
                0x20..=0x7E
                | 0xC0..=0x24F
                | 0x391..=0x3A1
                | 0x3A3..=0x3A9
                | 0x3B1..=0x3C9
                | 0x400..=0x45F,
            )) if c != '\u{D7}' && c != '\u{F7}' => c,
            _ => '·',
        })
        .collect()
}

/// ` Hex job record (live) @ 0x1a2b, 2055 bytes /path/to/qmgr.db`.
fn title(h: &HexState) -> Line<'static> {
    let which = match h.source {
        SourceSel::Job => "job record",
        SourceSel::File => "file record",
    };
    Line::from(vec![
        Span::styled(" Hex ", Style::default().add_modifier(Modifier::BOLD)),
        Span::styled(
            format!(
                "{which} ({}) @ {:#x}{}, {} bytes ",
                if h.carved { "carved" } else { "live" },
                h.extents.first().map(|e| e.0).unwrap_or(0),
                if h.coordinate.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", h.coordinate)
                },
                h.record_len
            ),
            Style::default().fg(if h.carved { CARVED } else { LIVE }),
        ),
        esc_styled(&h.evidence, Style::default().fg(DIM)),
    ])
}

/// A byte's look: the record's bytes on a dark ground in their field's colour, the bytes
/// around it dim, the cursor reversed.
fn byte_style(h: &HexState, off: u64) -> Style {
    let mut style = Style::default();
    if h.in_record(off) {
        style = style.bg(Color::Rgb(40, 40, 60));
        style = match h.field_at(off) {
            Some(fi) => style.fg(field_color(fi)),
            None => style.fg(Color::White),
        };
    } else {
        style = style.fg(DIM);
    }
    if off == h.cursor {
        style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
    }
    style
}

fn field_color(fi: usize) -> Color {
    FIELD_COLORS[fi % FIELD_COLORS.len()]
}

/// The UTF-16 column of the line of 16 bytes from `line_off`: eight code units paired as the
/// record pairs them, from its first byte. A record at an odd offset (carved records often
/// are) has its strings at odd offsets: pairing from the line's even offset read them as
/// noise. With `phase` 1 the units are the line's bytes 1–2, 3–4, … 15 and the next line's 0.
fn utf16_cells(byte: impl Fn(u64) -> Option<u8>, line_off: u64, phase: u64) -> String {
    (0..8u64)
        .map(|i| {
            let off = line_off.saturating_add(phase + 2 * i);
            match (byte(off), byte(off.saturating_add(1))) {
                (Some(lo), Some(hi)) => utf16_char(lo, hi),
                _ => ' ',
            }
        })
        .collect()
}

/// One line of 16 bytes from `line_off`: offset, hex, ASCII, and the UTF-16 reading.
fn hex_line(h: &HexState, line_off: u64) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("{line_off:08x}  "),
        Style::default().fg(DIM),
    )];
    let mut ascii = Vec::new();
    let phase = h.extents.first().map_or(0, |e| e.0 % 2);
    let utf16 = utf16_cells(|o| h.byte(o), line_off, phase);
    for b in 0..16u64 {
        let off = line_off + b;
        let byte = h.byte(off);
        let style = byte_style(h, off);
        let text = match byte {
            Some(v) => format!("{v:02x}"),
            None => "  ".into(),
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(if b == 7 { "  " } else { " " }));
        let ch = match byte {
            Some(v @ 0x20..=0x7e) => v as char,
            Some(_) => '.',
            None => ' ',
        };
        ascii.push(Span::styled(ch.to_string(), style));
    }
    spans.push(Span::raw(" "));
    spans.extend(ascii);
    spans.push(Span::raw("  "));
    spans.push(Span::styled(utf16, Style::default().fg(Color::Gray)));
    Line::from(spans)
}

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let (hex_area, insp_area) = hex_split(area);
    let h = &app.hex;
    let block = Block::default().borders(Borders::TOP).title(title(h));
    let rows = usize::from(hex_area.height.saturating_sub(1));
    let mut lines: Vec<Line> = Vec::with_capacity(rows);
    if let Some(e) = &h.error {
        lines.push(Line::from(esc_styled(e, Style::default().fg(DANGER))));
    }
    for r in 0..rows as u64 {
        let line_off = h.top + r * 16;
        if h.file_len > 0 && line_off >= h.file_len {
            break;
        }
        lines.push(hex_line(h, line_off));
    }
    f.render_widget(Paragraph::new(lines).block(block), hex_area);
    draw_inspector(f, h, app.store.zone, insp_area);
}

/// Where the cursor is: in the file, in the record, and in which field.
fn cursor_lines(h: &HexState) -> Vec<Line<'static>> {
    let c = h.cursor;
    let rel = h
        .record_offset(c)
        .map(|r| format!("record +{r:#x}"))
        .unwrap_or_else(|| "outside the record".into());
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("cursor {c:#x} ({c}) "),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(rel),
    ])];
    match h.field_at(c) {
        Some(fi) => {
            let (s, e, _) = h
                .fields
                .iter()
                .find(|x| x.2 == fi && c >= x.0 && c < x.1)
                .copied()
                .unwrap_or((c, c, fi));
            out.push(Line::from(vec![
                Span::styled("field  ", Style::default().fg(field_color(fi))),
                esc(h.field_names.get(fi).map(String::as_str).unwrap_or("")),
                Span::raw(format!(" (+{}, {} bytes here)", c - s, e - s)),
            ]));
        }
        None => out.push(Line::from(Span::styled(
            "field  (none annotated)",
            Style::default().fg(DIM),
        ))),
    }
    out
}

/// The bytes at the cursor read as each type the records hold: (name, reading).
fn readings(b: &[u8], zone: Zone) -> Vec<(&'static str, String)> {
    let arr = |n: usize| -> Option<Vec<u8>> { b.get(..n).map(<[u8]>::to_vec) };
    let u16v = arr(2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32v = arr(4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let u64v = arr(8).map(|x| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&x);
        u64::from_le_bytes(a)
    });
    let na = || "—".to_string();
    let or_na = |v: Option<String>| v.unwrap_or_else(na);
    vec![
        (
            "u8/i8",
            or_na(b.first().map(|v| format!("{v} / {}", *v as i8))),
        ),
        (
            "u16 le",
            or_na(u16v.map(|v| format!("{v} / {} / {v:#06x}", v as i16))),
        ),
        (
            "u32 le",
            or_na(u32v.map(|v| format!("{v} / {} / {v:#010x}", v as i32))),
        ),
        ("u64 le", or_na(u64v.map(|v| v.to_string()))),
        ("FILETIME", or_na(u64v.map(|v| filetime_reading(v, zone)))),
        ("GUID", or_na(Guid::from_slice(b).map(|g| g.to_string()))),
        ("SID", sid_reading(b)),
        ("UTF-16", utf16_reading(b)),
    ]
}

fn filetime_reading(v: u64, zone: Zone) -> String {
    let s = filetime_iso(v);
    if s.is_empty() {
        "not a time".to_string()
    } else {
        zone.detail(&s)
    }
}

/// A SID and its well-known name.
fn sid_reading(b: &[u8]) -> String {
    parse_sid(b)
        .map(|(s, _)| {
            let s = s.to_string();
            match well_known_name(&s) {
                Some(n) => format!("{s} ({n})"),
                None => s,
            }
        })
        .unwrap_or_else(|| "not a SID".into())
}

/// Up to 16 UTF-16 code units, to the first NUL.
fn utf16_reading(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .take_while(|&u| u != 0)
        .take(16)
        .collect();
    format!("\"{}\"", utf16_preview(&units))
}

/// The annotated fields, each once by its first piece, from a little before the one at the
/// cursor: record offset, length, name.
fn field_list_lines(h: &HexState) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(Span::styled(
        format!("fields ({}; n/N jump)", h.field_names.len()),
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    let cur = h.field_at(h.cursor);
    let mut firsts: Vec<(u64, u64, usize)> = Vec::new();
    for &(s, e, fi) in &h.fields {
        if !firsts.iter().any(|x| x.2 == fi) {
            firsts.push((s, e, fi));
        }
    }
    let at = cur
        .and_then(|fi| firsts.iter().position(|x| x.2 == fi))
        .unwrap_or(0);
    for &(s, _, fi) in firsts.iter().skip(at.saturating_sub(2)) {
        let len = h
            .fields
            .iter()
            .filter(|x| x.2 == fi)
            .map(|x| x.1 - x.0)
            .sum::<u64>();
        let rel = h.record_offset(s).unwrap_or(0);
        let mut style = Style::default().fg(field_color(fi));
        if Some(fi) == cur {
            style = style.add_modifier(Modifier::REVERSED);
        }
        out.push(Line::from(vec![
            Span::raw(format!("+{rel:<6x}{len:>5}  ")),
            esc_styled(
                h.field_names.get(fi).map(String::as_str).unwrap_or(""),
                style,
            ),
        ]));
    }
    out
}

fn inspector_lines(h: &HexState, zone: Zone) -> Vec<Line<'static>> {
    let mut out = cursor_lines(h);
    for (k, v) in readings(h.bytes_at(h.cursor, 80), zone) {
        out.push(Line::from(vec![
            Span::styled(format!("{k:<9}"), Style::default().fg(ACCENT)),
            esc(&v),
        ]));
    }
    // In the security descriptor: its owner, group and ACEs, each at its offset.
    out.extend(super::hex_sd::lines(h));
    if !h.field_names.is_empty() {
        out.extend(field_list_lines(h));
    }
    out
}

fn draw_inspector(f: &mut Frame, h: &HexState, zone: Zone, area: Rect) {
    let block = Block::default()
        .borders(Borders::TOP | Borders::LEFT)
        .title(Span::styled(
            " Inspector ",
            Style::default().add_modifier(Modifier::BOLD),
        ));
    let p = Paragraph::new(inspector_lines(h, zone))
        .block(block)
        .wrap(Wrap { trim: false });
    f.render_widget(p, area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::display;

    #[test]
    fn utf16_column_pairs_bytes_from_the_records_start() {
        // "BITS" in UTF-16 at offset 0x11, an odd offset as carved records have.
        let mut buf = [0u8; 0x30];
        for (i, c) in "BITSjob!".encode_utf16().enumerate() {
            buf[0x11 + 2 * i..0x13 + 2 * i].copy_from_slice(&c.to_le_bytes());
        }
        let byte = |o: u64| buf.get(o as usize).copied();
        assert_eq!(utf16_cells(byte, 0x10, 1), "BITSjob!");
        // Paired from the even offset, as before: noise.
        assert_eq!(utf16_cells(byte, 0x10, 0), "........");
        // The end of the data: blanks, not a panic.
        assert_eq!(utf16_cells(byte, 0x20, 1), "....... ");
        assert_eq!(utf16_cells(byte, u64::MAX - 3, 1), "        ");
    }

    #[test]
    fn utf16_preview_is_one_narrow_cell_per_unit() {
        // Every code unit, alone and after a high surrogate: one cell each, no combining
        // mark, no wide or hidden character.
        for u in 0..=u16::MAX {
            for units in [vec![u], vec![0xD800, u]] {
                let p = utf16_preview(&units);
                assert_eq!(display::width(&p), p.chars().count(), "{units:x?}");
                assert!(!display::has_hidden(&p), "{units:x?}");
                assert!(p.chars().count() <= units.len(), "{units:x?}");
            }
        }
        assert_eq!(utf16_preview(&[0x41, 0xE9, 0x0301, 0x4E2D, 0x416]), "Aé··Ж");
    }
}
