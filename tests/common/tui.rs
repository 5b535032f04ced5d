//! Driving the explorer's state in tests: open and wait, press keys, draw into a TestBackend.

use std::path::PathBuf;
use std::time::Duration;

use bitscope::tui::app::App;
use bitscope::tui::{ui, Options};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// An app of `w`×`h` cells with `path` loaded (and carved when `carve`); fails on a load error.
pub fn loaded(path: PathBuf, carve: bool, w: u16, h: u16) -> App {
    let mut app = App::new(Options {
        carve,
        ..Options::default()
    });
    app.resize(w, h);
    app.open(vec![path]);
    assert!(app.wait_loaded(Duration::from_secs(60)), "load timed out");
    assert!(app.load.failed.is_none(), "{:?}", app.load.failed);
    app
}

pub fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Each character of `text` as a key press.
pub fn typ(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// One frame of the app, drawn at its size.
pub fn render(app: &App) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(app.width, app.height)).expect("terminal");
    t.draw(|f| {
        ui::draw(f, app);
    })
    .expect("draw");
    t.backend().clone()
}

/// The cells of a drawn screen as text, one line per row.
pub fn screen_text(b: &TestBackend) -> String {
    let buf = b.buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// `app` drawn, as text ([`screen_text`]).
pub fn screen(app: &App) -> String {
    screen_text(&render(app))
}
