//! The line prompts: the filter (applied live, as it is typed) and the export path. Keys
//! arrive as actions; the line editing itself is tui-input's.

use tui_input::{Input, InputRequest};

use super::app::App;
use super::display;
use super::export::with_next_format;
use super::keys::Action;
use super::query::Query;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Export,
    /// Where `w` keeps the case.
    Case,
    /// `a`: the selected record's note and tags.
    Note,
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: Input,
    /// The filter text before the prompt opened (Esc restores it).
    pub before: String,
    /// The export path exists and the analyst was told; Enter again replaces it.
    pub overwrite_ok: bool,
}

/// The line edit an action asks for (hidden characters are never typed into a line).
fn edit_request(action: Action) -> Option<InputRequest> {
    Some(match action {
        Action::Insert(c) if !display::is_hidden(c) => InputRequest::InsertChar(c),
        Action::ClearLine => InputRequest::DeleteLine,
        Action::DeletePrevChar => InputRequest::DeletePrevChar,
        Action::DeleteNextChar => InputRequest::DeleteNextChar,
        Action::DeletePrevWord => InputRequest::DeletePrevWord,
        Action::CursorLeft => InputRequest::GoToPrevChar,
        Action::CursorRight => InputRequest::GoToNextChar,
        Action::CursorStart => InputRequest::GoToStart,
        Action::CursorEnd => InputRequest::GoToEnd,
        _ => return None,
    })
}

impl App {
    /// Open the filter prompt on the filter as it is.
    pub(super) fn open_filter_prompt(&mut self) {
        let text = self.filter_text.clone();
        self.prompt = Some(Prompt {
            kind: PromptKind::Filter,
            input: Input::new(text.clone()),
            before: text,
            overwrite_ok: false,
        });
    }

    pub(super) fn update_prompt(&mut self, action: Action) {
        let Some(p) = self.prompt.as_mut() else {
            return;
        };
        if let Some(req) = edit_request(action) {
            let changed = p.input.handle(req).is_some_and(|c| c.value);
            if changed {
                p.overwrite_ok = false;
                if p.kind == PromptKind::Filter {
                    let text = p.input.value().to_string();
                    self.set_filter(&text);
                }
            }
            return;
        }
        match (action, p.kind) {
            (Action::Confirm, PromptKind::Filter) => {
                let text = p.input.value().trim().to_string();
                self.confirm_filter(&text);
            }
            (Action::Cancel, PromptKind::Filter) => {
                let before = p.before.clone();
                self.prompt = None;
                self.set_filter(&before);
            }
            (Action::Confirm, PromptKind::Export) => {
                let path = p.input.value().trim().to_string();
                let overwrite_ok = p.overwrite_ok;
                self.finish_export(&path, overwrite_ok);
            }
            (Action::CycleFormat, PromptKind::Export) => {
                let next = with_next_format(p.input.value());
                p.input = Input::new(next);
                p.overwrite_ok = false;
                self.say_export_target();
            }
            (Action::Confirm, PromptKind::Case) => {
                let path = p.input.value().trim().to_string();
                let overwrite_ok = p.overwrite_ok;
                self.finish_case_save(&path, overwrite_ok);
            }
            (Action::Confirm, PromptKind::Note) => {
                let line = p.input.value().to_string();
                self.finish_note(&line);
            }
            (Action::Cancel, PromptKind::Case | PromptKind::Note) => {
                self.prompt = None;
                self.set_status("cancelled", false);
            }
            (Action::Cancel, PromptKind::Export) => {
                self.prompt = None;
                self.set_status("export cancelled", false);
            }
            _ => {}
        }
    }

    /// Enter in the filter prompt: apply `text` and say how many rows it leaves, or what is
    /// wrong with it.
    fn confirm_filter(&mut self, text: &str) {
        self.prompt = None;
        self.set_filter(text);
        let v = self.store.view(self.view);
        if let Some(e) = self.store.query.error.clone() {
            self.set_status(format!("filter: {e}"), true);
            return;
        }
        let msg = if text.is_empty() {
            "filter cleared".to_string()
        } else {
            format!(
                "filter: {} of {} {} shown",
                v.shown.len(),
                v.items.len(),
                self.view.title().to_lowercase()
            )
        };
        self.set_status(msg, false);
    }

    /// Filter all views by `text` (live, as it is typed).
    pub fn set_filter(&mut self, text: &str) {
        self.filter_text = text.to_string();
        self.store.set_query(Query::parse(text));
        self.clamp_all();
    }
}
