//! The USN journal reader against dissect.ntfs's UsnJrnl: the real excerpt
//! (`ntfs/UsnJrnl.raw`), and the same records behind a sparse head and between junk, as a `$J`
//! stream holds them. Every field of every record.

mod common;

use bitscope::container::usn::{records, UsnRecord};
use serde_json::Value;

fn check(ours: &[UsnRecord], theirs: &[Value]) {
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(theirs) {
        let ours = serde_json::to_value(o).unwrap();
        for (k, v) in t.as_object().unwrap() {
            assert_eq!(&ours[k.as_str()], v, "record at {}: {k}", o.offset);
        }
    }
}

#[test]
fn usn_records_equal_dissect_ntfs() {
    let Some(python) = common::ntfs_python() else {
        return;
    };
    let Some(path) = common::sample("ntfs/UsnJrnl.raw") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let theirs: Vec<Value> = common::run_python_script(&python, "usn_oracle.py", [&path])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours = records(&bytes, 0);
    check(&ours, &theirs);
    assert!(ours
        .iter()
        .any(|r| r.name == "first.txt" && r.reasons() == ["RENAME_NEW_NAME"]));

    // A sparse head (a page of zeros), the records, zeros to the end of their 4 KiB page (as
    // Windows pads: no record crosses a page), the records again. (Junk between records is the
    // hostile tests' business: dissect.ntfs stops at it, we step over it 8 bytes at a time.)
    let mut stream = vec![0u8; 4096];
    stream.extend_from_slice(&bytes);
    stream.resize(8192, 0);
    stream.extend_from_slice(&bytes);
    let dir = common::scratch_dir("usn");
    let j = dir.join("J");
    std::fs::write(&j, &stream).unwrap();
    let theirs: Vec<Value> = common::run_python_script(&python, "usn_oracle.py", [&j])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours = records(&stream, 0);
    check(&ours, &theirs);
    assert_eq!(ours.len(), 2 * records(&bytes, 0).len());
    println!(
        "{} records equal dissect.ntfs's ({} in the excerpt)",
        ours.len(),
        ours.len() / 2
    );
}
