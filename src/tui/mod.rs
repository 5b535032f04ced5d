//! The terminal explorer (`bitscope PATH...`): ratatui + crossterm, in csvlens's shape: keys
//! become actions, the app applies them, the drawing only draws and hands back what it drew.
//!
//! - [`keys`]: the one binding table (keys → [`keys::Action`], footer hints, `?`, README).
//! - [`app`]: the state and its one `update`, with the screens' own keys beside their state:
//!   [`hex`] (the hex view), [`prompt`] (filter and export lines), [`export`] (`e`),
//!   [`copy`] (`y`, `Y`), [`overlay`] (help, diagnostics, column chooser), [`hosts`] (the
//!   host summary, `H`), [`mouse`].
//! - [`store`]: records and the views over them, [`query`] the filter line parsed,
//!   [`matcher`] what it matches ([`fuzzy`] for free text), [`sort`] the orders, [`columns`] the table columns.
//! - [`timeline`]: every job timestamp in time order.
//! - [`detail`]: the detail pane's text and the fields on it ([`fields`]: what `y` copies).
//! - [`layout`]: the geometry both the app and the drawing use (plain numbers).
//! - [`ui`]: drawing only, over the visible slice; it hands back what it drew
//!   ([`layout::Rendered`]) for the next key or click. Each screen draws in its own file:
//!   [`table_ui`], [`detail_ui`], [`hex_ui`], [`timeline_ui`], [`overlay_ui`], [`hosts_ui`]; [`style`]
//!   holds the colours and the escaping helpers they share.
//! - [`worker`]: parsing and carving on a background thread, over one channel.
//! - [`display`]: the one escaping layer for untrusted text; [`origin`] where a record came
//!   from, as the Evidence column shows it.

pub mod app;
pub mod case;
pub mod columns;
pub mod copy;
pub mod detail;
pub mod detail_ui;
pub mod display;
pub mod export;
pub mod fields;
pub mod fuzzy;
pub mod hex;
pub mod hex_sd;
pub mod hex_ui;
pub mod hosts;
pub mod hosts_ui;
pub mod keys;
pub mod layout;
pub mod matcher;
pub mod mouse;
pub mod notes;
pub mod origin;
pub mod overlay;
pub mod overlay_ui;
pub mod pivot;
pub mod prompt;
pub mod query;
pub mod settings;
pub mod sort;
pub mod store;
pub mod style;
pub mod table_ui;
pub mod timeline;
pub mod timeline_ui;
pub mod ui;
pub mod when;
pub mod worker;
pub mod zone;
pub mod zoom;

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use app::{App, Effect};

/// How the TUI loads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Carve deleted records from free space too.
    pub carve: bool,
    /// The zone times are shown in (`--tz`); `u` toggles between UTC and it.
    pub zone: zone::Zone,
    /// The analyst's triage file (`--triage`); `None`: the built-in defaults.
    pub triage: Option<&'static crate::bits::tuning::Tuning>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            carve: true,
            zone: zone::Zone::Utc,
            triage: None,
        }
    }
}

/// Is the terminal in raw mode / alternate screen (so restoring is needed)?
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);

/// Put the terminal back as it was: main screen, cooked mode, cursor shown, mouse released.
/// Safe to call more than once.
pub fn restore_terminal() {
    if TERMINAL_TAKEN.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(
            io::stdout(),
            DisableMouseCapture,
            LeaveAlternateScreen,
            cursor::Show
        );
    }
}

struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Install the panic hook: a panic on the UI thread restores the terminal before the error
/// is printed; a panic on the worker thread is kept (not printed over the screen) and shown
/// by the app as a failed load.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(worker::THREAD_NAME) {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if let Ok(mut slot) = worker::LAST_PANIC.lock() {
                *slot = Some(format!("{msg}{at}"));
            }
            return;
        }
        restore_terminal();
        previous(info);
    }));
}

/// Standard base64 (for OSC 52).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

/// Put text on the clipboard: the system clipboard through arboard when reachable, else the
/// terminal's through OSC 52 (works over SSH and in tmux). Returns what happened.
fn copy_to_clipboard(
    clipboard: &mut Option<arboard::Clipboard>,
    out: &mut impl Write,
    text: &str,
) -> String {
    if clipboard.is_none() {
        *clipboard = arboard::Clipboard::new().ok();
    }
    if let Some(cb) = clipboard.as_mut() {
        if cb.set_text(text.to_string()).is_ok() {
            return "to the system clipboard".into();
        }
    }
    let seq = osc52(text);
    // tmux passes OSC 52 on when its set-clipboard option allows it.
    match out.write_all(seq.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => "through the terminal (OSC 52: no system clipboard reachable)".into(),
        Err(e) => format!("nowhere: no clipboard and the terminal write failed ({e})"),
    }
}

/// Run the TUI on every one of `paths` (one load, as `bitscope parse` reads them) until the
/// analyst quits; Ctrl-C exits the process with status 130.
pub fn run(paths: Vec<PathBuf>, opts: Options) -> Result<(), String> {
    run_case(paths, opts, None)
}

/// [`run`] with a case file (`bitscope --case FILE [PATH...]`, see [`case`]): its filter,
/// marks, columns, sorts and notes; without PATHs, on the paths the case names.
pub fn run_case(paths: Vec<PathBuf>, opts: Options, case: Option<PathBuf>) -> Result<(), String> {
    if explore_case(paths, opts, case)? == Ended::Interrupted {
        // The status a shell gives an interrupted command (128 + SIGINT). The terminal is
        // restored; the worker, cancelled, needs no waiting for.
        std::process::exit(130);
    }
    Ok(())
}

/// How the explorer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Quit,
    /// Ctrl-C.
    Interrupted,
}

/// [`run`] without the exit on Ctrl-C, for callers with something to clean up first
/// (`bitscope demo` removes its temporary evidence).
pub fn explore(paths: Vec<PathBuf>, opts: Options) -> Result<Ended, String> {
    explore_case(paths, opts, None)
}

/// [`explore`] with a case file (see [`run_case`]).
pub fn explore_case(
    mut paths: Vec<PathBuf>,
    opts: Options,
    case_at: Option<PathBuf>,
) -> Result<Ended, String> {
    // A case file that cannot be taken is one line on stderr too (exit 1), as a bad path is.
    let case = match &case_at {
        Some(at) => Some(case::load(at)?),
        None => None,
    };
    if paths.is_empty() {
        paths = case.as_ref().map(|c| c.paths.clone()).unwrap_or_default();
        if paths.is_empty() {
            return Err("no PATH given, and the case file names none".into());
        }
    }
    // Paths none of which can be read are one line on stderr, before the terminal is taken.
    let inputs = worker::Inputs::open_all(&paths)?;
    if let Some(which) = not_a_terminal() {
        return Err(no_terminal(&format!("{which} is not a terminal")));
    }
    install_panic_hook();
    let mut app = App::new(opts);
    // The columns and widths the analyst left last time (never read from the evidence).
    // A file that does not parse is the analyst's to mend: reported, and not written over.
    let mut settings_at = settings::path();
    if let Some(at) = &settings_at {
        match settings::load(at) {
            Ok(Some(s)) => s.apply(&mut app.store),
            Ok(None) => {}
            Err(e) => {
                app.set_status(format!("settings not read (nor saved): {e}"), true);
                settings_at = None;
            }
        }
    }
    // The worker starts before the first frame, which then appears at once.
    app.open_inputs(paths, inputs);
    // After the load started: it sets the folder record keys are relative to.
    if let (Some(case), Some(at)) = (&case, &case_at) {
        app.apply_case(case);
        let at = std::path::absolute(at).unwrap_or_else(|_| at.clone());
        app.set_status(
            format!(
                "case {}: {} record{} marked or noted",
                at.display(),
                case.records.len(),
                display::plural(case.records.len())
            ),
            false,
        );
        app.case_path = Some(at);
    }

    enable_raw_mode().map_err(|e| no_terminal(&e))?;
    TERMINAL_TAKEN.store(true, Ordering::SeqCst);
    let _guard = TerminalGuard;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)
        .map_err(|e| no_terminal(&e))?;
    let mut terminal =
        Terminal::new(CrosstermBackend::new(io::stdout())).map_err(|e| no_terminal(&e))?;
    let size = terminal.size().map_err(|e| e.to_string())?;
    app.resize(size.width, size.height);

    let mut clipboard: Option<arboard::Clipboard> = None;
    let result = event_loop(&mut terminal, &mut app, &mut clipboard);
    drop(terminal);
    restore_terminal();
    result?;
    if let Some(at) = &settings_at {
        let inputs = app.inputs();
        let inputs: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
        if let Err(e) = settings::save(at, &settings::Settings::of(&app.store), &inputs) {
            eprintln!(
                "bitscope: settings not saved: {}",
                crate::util::text::escape(&e)
            );
        }
    }
    Ok(if app.interrupted {
        Ended::Interrupted
    } else {
        Ended::Quit
    })
}

/// Which of stdin and stdout is not a terminal, if one is not.
fn not_a_terminal() -> Option<&'static str> {
    use std::io::IsTerminal;
    if !io::stdin().is_terminal() {
        Some("stdin")
    } else if !io::stdout().is_terminal() {
        Some("stdout")
    } else {
        None
    }
}

/// The explorer cannot start without a terminal: say why, and what works without one.
fn no_terminal(why: &dyn std::fmt::Display) -> String {
    format!(
        "cannot set up the terminal: {why}; the explorer needs an interactive terminal \
         (`bitscope parse PATH...` writes the records without one, as JSON, JSONL or CSV)"
    )
}

fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<io::Stdout>>,
    app: &mut App,
    clipboard: &mut Option<arboard::Clipboard>,
) -> Result<(), String> {
    let err = |e: io::Error| format!("terminal: {e}");
    let mut busy = false;
    loop {
        if app.dirty {
            let mut rendered = layout::Rendered::default();
            terminal
                .draw(|f| rendered = ui::draw(f, app))
                .map_err(err)?;
            app.rendered = rendered;
            app.dirty = false;
        }
        if app.should_quit {
            return Ok(());
        }
        let timeout = if busy {
            Duration::ZERO
        } else if app.load.running {
            Duration::from_millis(40)
        } else {
            Duration::from_millis(500)
        };
        if event::poll(timeout).map_err(err)? {
            // Take every pending event before drawing again (key repeat, paste, resize).
            loop {
                let ev = event::read().map_err(err)?;
                app.handle_event(ev);
                if app.should_quit || !event::poll(Duration::ZERO).map_err(err)? {
                    break;
                }
            }
        }
        // Messages still waiting after a full pump: draw, then come straight back.
        busy = app.pump();
        if busy {
            app.dirty = true;
        }
        if app.load.running {
            app.tick = app.tick.wrapping_add(1);
            app.dirty = true;
        }
        for effect in app.take_effects() {
            match effect {
                Effect::Copy { text, what, json } => {
                    let how = copy_to_clipboard(clipboard, terminal.backend_mut(), &text);
                    let what = if json {
                        format!("{what} as JSON")
                    } else {
                        what
                    };
                    app.set_status(format!("copied {what} {how}"), false);
                }
                Effect::Repaint => {
                    terminal.clear().map_err(err)?;
                    app.dirty = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
