//! The generator's SAM read back by regipy (machine SID, every account by RID) and by ours.

mod common;

use std::path::Path;

use bitscope::hive::accounts::sam;
use bitscope::hive::Hive;
use serde_json::Value;

#[test]
fn generated_sam_reads_alike_with_regipy_and_ours() {
    let Some(python) = common::regipy_python() else {
        return;
    };
    let machine = "S-1-5-21-2318473921-1630741855-3304761102";
    let accounts = [
        ("Administrator", 500),
        ("Guest", 501),
        ("m.keller", 1104),
        ("Zoë", 1105),
    ];
    let bytes = bitscope::gen::hive::sam(machine, &accounts, 133_500_000_000_000_000);
    let dir = common::scratch_dir("gen-sam");
    let path = dir.join("SAM");
    std::fs::write(&path, &bytes).unwrap();
    let theirs: Value = serde_json::from_str(&common::run_python_script(
        &python,
        "hive_oracle.py",
        [Path::new("sam"), &path],
    ))
    .unwrap();
    assert_eq!(theirs["machine_sid"], machine);
    let mut names: Vec<(String, u64)> = theirs["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
        .collect();
    names.sort_by_key(|(_, rid)| *rid);
    let want: Vec<(String, u64)> = accounts
        .iter()
        .map(|(n, r)| (n.to_string(), u64::from(*r)))
        .collect();
    assert_eq!(names, want);
    let ours = sam(&Hive::open(&bytes).unwrap());
    assert_eq!(ours.machine_sid.as_deref(), Some(machine));
    for (name, rid) in accounts {
        let a = ours
            .accounts
            .iter()
            .find(|a| a.sid == format!("{machine}-{rid}"))
            .unwrap();
        assert_eq!(a.name, name);
    }
    println!("generated SAM: regipy and ours read {names:?}");
}
