//! Accounts from the evidence's own hives against regipy: the real SAM (machine SID, every
//! local account by RID), and SOFTWARE hives with ProfileList keys written here with hivex
//! (Debian's python3-hivex) into a copy of the real hive. Nothing is looked up on this machine.

mod common;

use std::path::Path;
use std::process::Command;

use bitscope::hive::accounts::{profiles, sam, AccountSource, Accounts};
use bitscope::hive::Hive;
use serde_json::Value;

#[test]
fn sam_accounts_equal_regipy() {
    let Some(python) = common::regipy_python() else {
        return;
    };
    let Some(path) = common::sample("registry/SAM") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let hive = Hive::open(&bytes).unwrap();
    let ours = sam(&hive);
    let theirs: Value = serde_json::from_str(&common::run_python_script(
        &python,
        "hive_oracle.py",
        [Path::new("sam"), &path],
    ))
    .unwrap();
    let machine = theirs["machine_sid"].as_str().unwrap();
    assert_eq!(ours.machine_sid.as_deref(), Some(machine));
    let names = theirs["names"].as_array().unwrap();
    assert_eq!(ours.accounts.len(), names.len());
    assert_eq!(theirs["users"].as_array().unwrap().len(), names.len());
    for pair in names {
        let (name, rid) = (pair[0].as_str().unwrap(), pair[1].as_u64().unwrap());
        let sid = format!("{machine}-{rid}");
        let found = ours
            .accounts
            .iter()
            .find(|a| a.sid == sid)
            .expect("every RID");
        assert_eq!(found.name, name, "{sid}");
        assert_eq!(found.source, AccountSource::Sam);
        // The name came from Users\<RID>'s V, the key regipy lists as the RID in hex.
        assert!(found.key.ends_with(&format!("{rid:08X}")), "{}", found.key);
    }
    let mut all = Accounts::default();
    all.add(ours.accounts.clone());
    assert_eq!(
        all.lookup(&format!("{machine}-500")).unwrap().name,
        "Administrator"
    );
    assert_eq!(
        all.lookup("S-1-5-18").unwrap().source,
        AccountSource::WellKnown
    );
    assert!(all.lookup("S-1-5-21-1-2-3-500").is_none());
    println!(
        "SAM: machine SID {machine}; {:?}",
        ours.accounts
            .iter()
            .map(|a| (&a.sid, &a.name))
            .collect::<Vec<_>>()
    );
}

fn hivex_available() -> bool {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import hivex"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        common::skip("Debian's python3-hivex (see .ci/run)");
    }
    ok
}

#[test]
fn profile_list_accounts_equal_regipy() {
    let Some(python) = common::regipy_python() else {
        return;
    };
    let Some(base) = common::sample("registry/SAM") else {
        return;
    };
    if !hivex_available() {
        return;
    }
    let dir = common::scratch_dir("hive-profiles");
    for (case, count) in [("few", 3usize), ("many", 700)] {
        let mut list: Vec<(String, String)> = (0..count)
            .map(|i| {
                (
                    format!("S-1-5-21-1111-2222-3333-{}", 1000 + i),
                    format!(r"C:\Users\user{i}"),
                )
            })
            .collect();
        list.push((
            "S-1-5-21-1111-2222-3333-4242".into(),
            r"C:\Users\Zoë Ådahl".into(),
        ));
        list.push((
            "S-1-5-18".into(),
            r"%systemroot%\system32\config\systemprofile".into(),
        ));
        let json = dir.join(format!("{case}.json"));
        std::fs::write(&json, serde_json::to_string(&list).unwrap()).unwrap();
        let out = dir.join(format!("{case}-SOFTWARE"));
        let status = Command::new("/usr/bin/python3")
            .arg(common::manifest_dir().join("tests/oracle/make_software_hive.py"))
            .args([&base, &out, &json])
            .status()
            .unwrap();
        assert!(status.success());
        let bytes = std::fs::read(&out).unwrap();
        let ours = profiles(&Hive::open(&bytes).unwrap());
        let theirs: Value = serde_json::from_str(&common::run_python_script(
            &python,
            "hive_oracle.py",
            [Path::new("profiles"), &out],
        ))
        .unwrap();
        let theirs = theirs.as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{case}");
        for (a, t) in ours.iter().zip(theirs) {
            assert_eq!(a.sid, t[0].as_str().unwrap());
            let path = t[1].as_str().unwrap();
            assert_eq!(a.profile_path.as_deref(), Some(path));
            assert_eq!(a.name, path.rsplit('\\').next().unwrap());
        }
        let mut all = Accounts::default();
        all.add(ours.clone());
        assert_eq!(
            all.lookup("S-1-5-21-1111-2222-3333-4242").unwrap().name,
            "Zoë Ådahl"
        );
        println!("{case}: {} profiles equal regipy's", ours.len());
    }
}
