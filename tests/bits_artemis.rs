//! Live BitsInfo records of the real win10 and win11 qmgr.db against the artemis reference.
//!
//! Every field must equal artemis's value, except where artemis is shown wrong; each such
//! exception is a named test below that proves our value from the bytes.

mod common;

use bitscope::bits::model::BitsInfo;
use bitscope::pipeline::parse_file;
use serde_json::Value;

/// Fields compared one to one. The others have their own tests: `flags`, `acls`,
/// `additional_sids`.
const SAME: [&str; 29] = [
    "job_id",
    "file_id",
    "owner_sid",
    "created",
    "modified",
    "completed",
    "expiration",
    "bytes_downloaded",
    "bytes_transferred",
    "job_name",
    "job_description",
    "job_command",
    "job_arguments",
    "error_count",
    "job_type",
    "job_state",
    "priority",
    "http_method",
    "full_path",
    "filename",
    "target_path",
    "volume",
    "url",
    "carved",
    "transient_error_count",
    "timeout",
    "retry_delay",
    "drive",
    "tmp_fullpath",
];

fn ours(rel: &str) -> Option<Vec<BitsInfo>> {
    let path = common::sample(rel)?;
    let parsed = parse_file(&path).expect("parses");
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    Some(parsed.records)
}

fn artemis(rel: &str) -> Option<Vec<Value>> {
    let path = common::sample(rel)?;
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

/// (ours, artemis) pairs matched by (job_id, file_id).
fn pairs(win: &str) -> Option<Vec<(Value, Value)>> {
    let ours = ours(&format!("ese/{win}/qmgr.db"))?;
    let reference = artemis(&format!("reference/artemis/{win}-live.json"))?;
    assert_eq!(ours.len(), reference.len(), "same number of rows");
    Some(
        reference
            .into_iter()
            .map(|a| {
                let o = ours
                    .iter()
                    .find(|o| {
                        a["job_id"] == o.job_id.as_str() && a["file_id"] == o.file_id.as_str()
                    })
                    .unwrap_or_else(|| {
                        panic!("artemis row {} / {} is ours too", a["job_id"], a["file_id"])
                    });
                (serde_json::to_value(o).unwrap(), a)
            })
            .collect(),
    )
}

fn every_field_equals_artemis(win: &str, rows: usize) {
    let Some(pairs) = pairs(win) else { return };
    assert_eq!(pairs.len(), rows);
    for (o, a) in &pairs {
        for f in SAME {
            assert_eq!(o[f], a[f], "{win} {}: field {f}", a["job_id"]);
        }
        // The ACEs: type, flags, SID and object fields equal; rights and account below.
        let (oa, aa) = (o["acls"].as_array().unwrap(), a["acls"].as_array().unwrap());
        assert_eq!(oa.len(), aa.len());
        for (x, y) in oa.iter().zip(aa) {
            for f in [
                "ace_type",
                "flags",
                "sid",
                "object_flags",
                "object_type_guid",
                "inherited_object_type_guid",
            ] {
                assert_eq!(x[f], y[f], "{win} ace field {f}");
            }
        }
    }
}

#[test]
fn win10_live_records_equal_artemis() {
    every_field_equals_artemis("win10", 1);
}

#[test]
fn win11_live_records_equal_artemis() {
    every_field_equals_artemis("win11", 4);
}

#[test]
fn win10_values_from_the_bytes() {
    let Some(rows) = ours("ese/win10/qmgr.db") else {
        return;
    };
    let r = &rows[0];
    assert_eq!(r.job_id, "266504ac-d974-446c-96ad-2be13a5665b0");
    assert_eq!(r.job_name, "Chrome Component Updater");
    assert_eq!(r.owner_sid, "S-1-5-21-1079689790-2336414676-942872339-1001");
    assert_eq!(
        r.target_path,
        r"C:\Program Files\Chromium\Application\chrome.exe"
    );
    assert_eq!(r.created, "2022-12-21T02:18:03.120Z");
    assert_eq!(r.bytes_downloaded, 4782);
    assert!(r
        .url
        .starts_with("http://edgedl.me.gvt1.com/edgedl/release2/chrome_component/"));
    // Provenance: the job blob is a long value at a known file offset; its bytes are the blob.
    let src = r.job_source.as_ref().unwrap();
    assert_eq!(src.kind, "live");
    assert_eq!(src.length, 2055);
    let data = std::fs::read(common::sample("ese/win10/qmgr.db").unwrap()).unwrap();
    let blob = std::fs::read(common::sample("blobs/win10/job.raw").unwrap()).unwrap();
    let at = src.offset as usize;
    assert_eq!(
        &data[at..at + 2055],
        &blob[..],
        "the source offset points at the blob"
    );
    assert_eq!(src.page, Some((at / 16384 - 1) as u32));
}

/// artemis keeps one BG_NOTIFY bit. The job's notify flags are 3 (bytes `03000000` after the
/// owner SID, blob offset 0x16e): BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR.
#[test]
fn artemis_flags_keep_only_one_bit() {
    let Some(blob) = common::sample("blobs/win10/job.raw").map(|p| std::fs::read(p).unwrap())
    else {
        return;
    };
    assert_eq!(&blob[0x16e..0x172], &[3, 0, 0, 0]);
    for win in ["win10", "win11"] {
        let Some(pairs) = pairs(win) else { return };
        for (o, a) in pairs {
            assert_eq!(a["flags"], serde_json::json!(["Transferred"]));
            assert_eq!(o["flags"], "Transferred | Error");
        }
    }
}

/// artemis reads access masks big-endian: every ACE shows GenericExecute, GenericAll and
/// FileWriteAttributes. The mask bytes are `3f 00 0f 00`, i.e. 0x000F003F: standard rights
/// required (Delete, ReadControl, WriteDac, WriteOwner) plus specific rights 0–5, no generic bit.
/// We also name well-known SIDs, which artemis leaves empty.
#[test]
fn artemis_access_masks_are_byte_swapped() {
    for win in ["win10", "win11"] {
        let Some(pairs) = pairs(win) else { return };
        for (o, a) in pairs {
            for (x, y) in o["acls"]
                .as_array()
                .unwrap()
                .iter()
                .zip(a["acls"].as_array().unwrap())
            {
                assert_eq!(
                    y["access_rights"],
                    serde_json::json!(["GenericExecute", "GenericAll", "FileWriteAttributes"])
                );
                assert_eq!(x["mask"], 0x000F003F);
                assert_eq!(
                    x["access_rights"],
                    serde_json::json!([
                        "FileReadData",
                        "FileWriteData",
                        "FileAppendData",
                        "FileReadEa",
                        "FileWriteEa",
                        "FileExecute",
                        "Delete",
                        "ReadControl",
                        "WriteDac",
                        "WriteOwner"
                    ])
                );
                assert_eq!(y["account"], "");
            }
            let accounts: Vec<_> = o["acls"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["account"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(
                accounts,
                [
                    "ANONYMOUS LOGON",
                    "",
                    "Administrators",
                    "Remote Management Users",
                    "ALL APPLICATION PACKAGES"
                ]
            );
        }
    }
}

/// artemis's additional SIDs are the descriptor's owner and group cut to "S-1-5-21". The
/// descriptor (blob offset 394, control 0x801F) holds the full SID for both.
#[test]
fn artemis_additional_sids_are_truncated() {
    for win in ["win10", "win11"] {
        let Some(pairs) = pairs(win) else { return };
        for (o, a) in pairs {
            assert_eq!(
                a["additional_sids"],
                serde_json::json!(["S-1-5-21", "S-1-5-21"])
            );
            let owner = o["owner_sid"].clone();
            assert_eq!(o["additional_sids"], serde_json::json!([owner, owner]));
            assert!(o["sddl"].as_str().unwrap().starts_with(&format!(
                "O:{}G:{}D:",
                owner.as_str().unwrap(),
                owner.as_str().unwrap()
            )));
        }
    }
}
