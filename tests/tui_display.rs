//! Issue 22, feature 11: IDN hosts also in Punycode (the encoder against Python's own
//! `punycode` and `idna` codecs, and the demo's look-alike host in the detail pane), and the
//! hex view's security-descriptor breakdown on the real win11 queue (owner, group and each
//! ACE at its offset, checked against the bytes with a SID reader of the test's own).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use bitscope::tui::app::{App, Screen};
use bitscope::util::punycode::{encode, host_to_ascii};
use bitscope::util::rng::Rng;
use crossterm::event::KeyCode;

use common::tui::{press, screen, typ};

/// Python's answers, one a line, for `expr` (of `s`) over each string.
fn python_each(expr: &str, inputs: &[String]) -> Option<Vec<String>> {
    let py = common::oracle_python()?;
    let script = format!("import json,sys\nfor s in json.load(sys.stdin):\n    print({expr})\n");
    let mut child = Command::new(py)
        .args(["-c", &script])
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    let json = serde_json::to_vec(inputs).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&json)
        .expect("write");
    let out = child.wait_with_output().expect("python ran");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn punycode_equals_pythons_codec() {
    // Random labels of Latin, Cyrillic, Greek, CJK, emoji and ASCII letters.
    let pools: [&[u32]; 5] = [
        &[0x61, 0x7A],
        &[0x430, 0x44F],
        &[0x3B1, 0x3C9],
        &[0x4E00, 0x4EFF],
        &[0x1F600, 0x1F64F],
    ];
    let mut rng = Rng::new(22);
    let mut inputs = Vec::new();
    for _ in 0..2000 {
        let len = 1 + rng.below(20) as usize;
        let s: String = (0..len)
            .filter_map(|_| {
                let p = pools[rng.below(pools.len() as u64) as usize];
                char::from_u32(p[0] + rng.below(u64::from(p[1] - p[0] + 1)) as u32)
            })
            .collect();
        inputs.push(s);
    }
    let Some(want) = python_each("s.encode('punycode').decode('ascii')", &inputs) else {
        return;
    };
    assert_eq!(want.len(), inputs.len());
    for (s, w) in inputs.iter().zip(&want) {
        assert_eq!(encode(s).as_deref(), Some(w.as_str()), "{s:?}");
    }
    eprintln!(
        "punycode: {} random labels equal Python's codec",
        inputs.len()
    );
}

#[test]
fn the_demos_look_alike_host_shows_its_ascii_form() {
    let dir = common::scratch_dir("idn-demo");
    for f in bitscope::gen::demo::files().expect("demo files") {
        let at = dir.join(&f.path);
        std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
        std::fs::write(&at, &f.bytes).expect("write demo file");
    }
    let host = "upd\u{430}te.example.org";
    // Python's IDNA 2003 codec (nameprep, then Punycode) on the host.
    let Some(want) = python_each("s.encode('idna').decode('ascii')", &[host.to_string()]) else {
        return;
    };
    assert_eq!(host_to_ascii(host).as_deref(), Some(want[0].as_str()));
    let mut app = common::tui::loaded(dir.clone(), true, 200, 60);
    typ(&mut app, "/");
    typ(&mut app, "site:update.example.org");
    press(&mut app, KeyCode::Enter);
    assert!(!app.store.view(app.view).shown.is_empty());
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Detail);
    let s = screen(&app);
    let line = format!("{host} = {}", want[0]);
    eprintln!("detail: IDN host {line}");
    assert!(
        s.contains("IDN host") && s.contains(&line),
        "{line} not in\n{s}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A SID from its bytes, read here (MS-DTYP 2.4.2.2), not by winsec.
fn sid_at(b: &[u8], at: usize) -> String {
    let n = usize::from(b[at + 1]);
    let auth = b[at + 2..at + 8]
        .iter()
        .fold(0u64, |a, &x| (a << 8) | u64::from(x));
    let mut s = format!("S-{}-{auth}", b[at]);
    for i in 0..n {
        let o = at + 8 + 4 * i;
        s.push_str(&format!(
            "-{}",
            u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
        ));
    }
    s
}

#[test]
fn hex_view_breaks_the_security_descriptor_down() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = common::tui::loaded(p.clone(), false, 200, 70);
    typ(&mut app, "x");
    assert_eq!(app.screen, Screen::Hex);
    let name = |app: &App| {
        app.hex
            .field_at(app.hex.cursor)
            .and_then(|f| app.hex.field_names.get(f).cloned())
    };
    for _ in 0..200 {
        if name(&app).as_deref() == Some("security descriptor") {
            break;
        }
        typ(&mut app, "n");
    }
    assert_eq!(name(&app).as_deref(), Some("security descriptor"));
    let lines: Vec<String> = bitscope::tui::hex_sd::lines(&app.hex)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    let text = lines.join("\n");
    eprintln!("{text}");
    // The descriptor's bytes read from the file here, at the field's pieces, and decoded
    // with the test's own SID reader.
    let fi = app.hex.field_at(app.hex.cursor).expect("field");
    let file = std::fs::read(&p).expect("sample");
    let sd: Vec<u8> = app
        .hex
        .fields
        .iter()
        .filter(|x| x.2 == fi)
        .flat_map(|&(s, e, _)| file[s as usize..e as usize].to_vec())
        .collect();
    assert!(
        app.hex.coordinate.is_empty(),
        "offsets in the qmgr.db itself"
    );
    let u32_at = |o: usize| u32::from_le_bytes([sd[o], sd[o + 1], sd[o + 2], sd[o + 3]]) as usize;
    let owner = sid_at(&sd, u32_at(4));
    let rec = &app.store.rec(app.hex_record().expect("record")).info;
    assert_eq!(owner, rec.owner_sid);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("+{:<5x}owner   {owner}", u32_at(4)))),
        "{text}"
    );
    let group = sid_at(&sd, u32_at(8));
    assert!(text.contains(&format!("group   {group}")), "{text}");
    // Every ACE of the DACL: its SID at its offset, its mask, as the record lists them.
    let dacl = u32_at(16);
    let count = u16::from_le_bytes([sd[dacl + 4], sd[dacl + 5]]) as usize;
    assert_eq!(count, rec.acls.len());
    let mut at = dacl + 8;
    for (i, a) in rec.acls.iter().enumerate() {
        let mask = u32_at(at + 4) as u32;
        let sid = sid_at(&sd, at + 8);
        assert_eq!((mask, &sid), (a.mask, &a.sid));
        let line = lines
            .iter()
            .find(|l| l.contains(&format!(" ACE {} ", i + 1)))
            .expect("ACE line");
        assert!(line.starts_with(&format!("+{at:<5x}")), "{line}");
        assert!(
            line.contains(&sid) && line.contains(&format!("{mask:#010x}")),
            "{line}"
        );
        at += u16::from_le_bytes([sd[at + 2], sd[at + 3]]) as usize;
    }
    eprintln!("descriptor: owner {owner}, group {group}, {count} ACEs, offsets as read");
    let s = screen(&app);
    assert!(s.contains("security descriptor ("), "{s}");
    insta::assert_snapshot!("hex_security_descriptor_win11", text);
}
