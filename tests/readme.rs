//! The README's key table is the binding table (`tui::keys::markdown_table`), between the
//! `<!-- keys:begin -->` and `<!-- keys:end -->` markers. `BITSCOPE_BLESS=1` rewrites it.

mod common;

const BEGIN: &str = "<!-- keys:begin -->";
const END: &str = "<!-- keys:end -->";

/// The README with the key table between the markers replaced by `table`; `None` when the
/// markers are missing or out of order.
fn with_table(readme: &str, table: &str) -> Option<String> {
    let (head, rest) = readme.split_once(BEGIN)?;
    let (_, tail) = rest.split_once(END)?;
    Some(format!("{head}{BEGIN}\n{table}{END}{tail}"))
}

#[test]
fn readme_key_table_is_the_binding_table() {
    let path = common::manifest_dir().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let table = bitscope::tui::keys::markdown_table();
    let Some(current) = with_table(&readme, &table) else {
        panic!("README.md has no {BEGIN} … {END} section");
    };
    if current == readme {
        return;
    }
    if std::env::var_os("BITSCOPE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, current).expect("rewriting README.md");
        eprintln!("README.md: key table rewritten from the binding table");
        return;
    }
    panic!(
        "README.md's key table differs from the binding table in src/tui/keys.rs; \
         rewrite it with: BITSCOPE_BLESS=1 cargo test --release --test readme"
    );
}

#[test]
fn splicing_keeps_everything_around_the_markers() {
    let readme = format!("intro\n{BEGIN}\nold\n{END}\noutro\n");
    assert_eq!(
        with_table(&readme, "| new |\n").as_deref(),
        Some(format!("intro\n{BEGIN}\n| new |\n{END}\noutro\n").as_str())
    );
    assert_eq!(with_table(&format!("{END}{BEGIN}"), "x"), None);
    assert_eq!(with_table("no markers", "x"), None);
}
