//! What the explorer remembers between runs: each table's columns (order, shown or not) and
//! the widths the analyst set. Kept in the user's configuration folder (XDG:
//! `$XDG_CONFIG_HOME/bitscope/explorer.toml`, else `~/.config/bitscope/explorer.toml`),
//! never beside the evidence; read when the explorer starts and written when it quits.
//!
//! The file is the analyst's to edit: unknown columns and views are ignored, a file that
//! does not parse is reported and left as it is (not overwritten).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::columns::Col;
use super::store::{Store, ViewKind};

/// One table's columns: in order, `-`-prefixed when hidden; widths the analyst set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewLayout {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub widths: BTreeMap<String, u16>,
}

/// The settings file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// By view: `jobs`, `files`, `rows`.
    #[serde(default)]
    pub views: BTreeMap<String, ViewLayout>,
}

/// The name a view has in settings and case files.
pub fn view_id(k: ViewKind) -> &'static str {
    match k {
        ViewKind::Jobs => "jobs",
        ViewKind::Files => "files",
        ViewKind::Rows => "rows",
    }
}

impl ViewLayout {
    /// A view's columns and widths as the store holds them.
    pub fn of(store: &Store, k: ViewKind) -> ViewLayout {
        let columns = store
            .column_choice(k)
            .into_iter()
            .map(|(c, on)| format!("{}{}", if on { "" } else { "-" }, c.id()))
            .collect();
        let v = store.view(k);
        let widths = Col::ALL
            .iter()
            .filter(|c| v.widths[c.index()] > 0)
            .map(|c| (c.id().to_string(), v.widths[c.index()]))
            .collect();
        ViewLayout { columns, widths }
    }

    /// Apply to a view of the store: the columns it offers in the order given (those not
    /// named keep their place after them, shown), the widths given; unknown names ignored.
    pub fn apply(&self, store: &mut Store, k: ViewKind) {
        let offered: Vec<Col> = k
            .columns()
            .iter()
            .copied()
            .filter(|&c| c != Col::Mark)
            .collect();
        if !self.columns.is_empty() {
            let mut choice: Vec<(Col, bool)> = Vec::new();
            for name in &self.columns {
                let (on, id) = match name.strip_prefix('-') {
                    Some(id) => (false, id),
                    None => (true, name.as_str()),
                };
                let col = Col::from_id(id).filter(|c| offered.contains(c));
                if let Some(c) = col.filter(|c| !choice.iter().any(|x| x.0 == *c)) {
                    choice.push((c, on));
                }
            }
            for c in &offered {
                if !choice.iter().any(|x| x.0 == *c) {
                    choice.push((*c, true));
                }
            }
            // A choice hiding every column is refused by the store; the view keeps its own.
            store.set_column_choice(k, choice);
        }
        let widths = &mut store.view_mut(k).widths;
        *widths = [0; Col::COUNT];
        for (id, &w) in &self.widths {
            // 0 leaves the width to the layout.
            if let Some(c) = Col::from_id(id).filter(|_| w > 0) {
                widths[c.index()] = w.min(1000);
            }
        }
    }
}

impl Settings {
    /// Every view of the store.
    pub fn of(store: &Store) -> Settings {
        let views = ViewKind::ALL
            .iter()
            .map(|&k| (view_id(k).to_string(), ViewLayout::of(store, k)))
            .collect();
        Settings { views }
    }

    pub fn apply(&self, store: &mut Store) {
        for k in ViewKind::ALL {
            if let Some(l) = self.views.get(view_id(k)) {
                l.apply(store, k);
            }
        }
    }
}

/// The settings file's path: under `$XDG_CONFIG_HOME`, else `$HOME/.config`; `None` when
/// neither is set (then nothing is remembered).
pub fn path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| Path::new(v).is_absolute())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("bitscope").join("explorer.toml"))
}

/// Read the settings at `path`: none when there is no file, an error (one line) when it
/// cannot be read or parsed.
pub fn load(path: &Path) -> Result<Option<Settings>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{}: {}", path.display(), e.message()))
}

/// Write the settings to `path` (its folder made when missing), atomically, never over one
/// of `protected` (the evidence).
pub fn save(path: &Path, settings: &Settings, protected: &[&Path]) -> Result<(), String> {
    use std::io::Write;
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    }
    let text = toml::to_string(settings).map_err(|e| err(&e))?;
    let protected = crate::output::Protected::of(protected);
    let mut f = crate::output::AtomicFile::create(path, &protected).map_err(|e| err(&e))?;
    let head = "# bitscope explorer settings, written when the explorer quits.\n";
    f.write_all(head.as_bytes())
        .and_then(|()| f.write_all(text.as_bytes()))
        .and_then(|()| f.commit())
        .map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_survives_the_file() {
        let mut store = Store::default();
        let mut choice = store.column_choice(ViewKind::Jobs);
        choice.swap(0, 3);
        choice[1].1 = false;
        assert!(store.set_column_choice(ViewKind::Jobs, choice.clone()));
        store.view_mut(ViewKind::Jobs).widths[Col::Name.index()] = 44;
        let s = Settings::of(&store);
        let text = toml::to_string(&s).expect("toml");
        let back: Settings = toml::from_str(&text).expect("parse");
        let mut other = Store::default();
        back.apply(&mut other);
        assert_eq!(other.column_choice(ViewKind::Jobs), choice);
        assert_eq!(other.view(ViewKind::Jobs).widths[Col::Name.index()], 44);
        assert_eq!(
            other.column_choice(ViewKind::Files),
            store.column_choice(ViewKind::Files)
        );
    }

    #[test]
    fn what_the_analyst_wrote_by_hand_is_taken_as_far_as_it_makes_sense() {
        let text = r#"
            [views.jobs]
            columns = ["url", "-flags", "nonsense", "url", "bytes"]
            widths = { name = 30, bogus = 4, url = 0 }
            [views.elsewhere]
            columns = ["url"]
        "#;
        let s: Settings = toml::from_str(text).expect("parse");
        let mut store = Store::default();
        s.apply(&mut store);
        let choice = store.column_choice(ViewKind::Jobs);
        // The URL first, flags hidden, the rest in the view's own order after them; bytes
        // (not a jobs column) and unknown names ignored.
        assert_eq!(choice[0], (Col::Url, true));
        assert_eq!(choice[1], (Col::Flags, false));
        assert_eq!(choice.len(), ViewKind::Jobs.columns().len() - 1);
        let w = store.view(ViewKind::Jobs).widths;
        assert_eq!((w[Col::Name.index()], w[Col::Url.index()]), (30, 0));
    }

    #[test]
    fn files_are_read_and_written_where_they_belong() {
        let dir = std::env::temp_dir().join(format!("bitscope-settings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let at = dir.join("bitscope").join("explorer.toml");
        assert_eq!(load(&at), Ok(None));
        let s = Settings::of(&Store::default());
        save(&at, &s, &[]).expect("save");
        assert_eq!(load(&at), Ok(Some(s)));
        std::fs::write(&at, "views = 3").expect("write");
        assert!(load(&at).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
