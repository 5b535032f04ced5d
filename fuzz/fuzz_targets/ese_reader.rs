//! The ESE reader over arbitrary bytes: open, info, dump every table, walk every page.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(db) = bitscope::ese::Database::open(data) else {
        return;
    };
    let _ = bitscope::output::ese::info_json(&db);
    let _ = bitscope::output::ese::dump(&db, None, &mut std::io::sink());
    for page in db.pages() {
        let _ = page.free_ranges();
        let _ = page.checksum();
    }
    for t in &db.tables {
        let (lv, _) = db.long_values(t);
        let _ = lv.orphans();
    }
});
