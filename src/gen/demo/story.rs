//! The rest of each demo host's story: its `Microsoft-Windows-Bits-Client/Operational` log
//! (the events Windows writes for the jobs of its queue, the deleted ones too, and one job the
//! queue no longer holds at all) and its SAM (the local accounts that own the jobs).

use crate::gen::blobs::{JobWithFiles, Machine, FT_SECOND};
use crate::gen::evtx::{bits_event, write, Event, Val};

/// The log of one host: for each job, event 3 (created, by `creator`), 59 (transfer started),
/// and 60 (stopped, done) with 4 (complete) for finished jobs, or 61 (stopped with an error)
/// for a job still retrying; then `extra`.
pub fn log(host: &str, jobs: &[(&JobWithFiles, &str)], extra: Vec<Event>) -> Vec<u8> {
    let mut events = Vec::new();
    for (j, creator) in jobs {
        let job = &j.job;
        let id = Val::Guid(job.id);
        let owner = format!("{host}\\{}", owner_name(&job.owner_sid));
        let s = |v: &str| Val::Str(v.to_string());
        let t = job.created;
        events.push(bits_event(
            3,
            t + FT_SECOND / 5,
            host,
            vec![
                ("jobTitle", s(&job.name)),
                ("jobId", id.clone()),
                ("jobOwner", s(&owner)),
                ("processPath", s(creator)),
                ("processId", Val::U32(4000 + (job.id[0] as u32) * 8)),
            ],
        ));
        let Some(file) = j.files.first() else {
            continue;
        };
        let transfer = |hr: Option<u32>, done: u64| {
            let mut v = vec![
                ("transferId", Val::Guid(file.id)),
                ("name", s(&job.name)),
                ("Id", id.clone()),
                ("url", s(&file.url)),
                ("peer", s("")),
            ];
            if let Some(hr) = hr {
                v.push(("hr", Val::U32(hr)));
            }
            v.extend([
                ("fileTime", Val::FileTime(file.remote_mtime)),
                ("fileLength", Val::U64(file.total_bytes)),
                ("bytesTotal", Val::U64(file.total_bytes)),
                ("bytesTransferred", Val::U64(done)),
                ("bytesTransferredFromPeer", Val::U64(0)),
            ]);
            v
        };
        events.push(bits_event(59, t + 2 * FT_SECOND, host, transfer(None, 0)));
        if file.complete() {
            let done = t + 9 * FT_SECOND;
            events.push(bits_event(
                60,
                done,
                host,
                transfer(Some(0), file.total_bytes),
            ));
            events.push(bits_event(
                4,
                done + FT_SECOND / 100,
                host,
                vec![
                    ("User", s(&owner)),
                    ("jobTitle", s(&job.name)),
                    ("jobId", id.clone()),
                    ("jobOwner", s(&owner)),
                    ("fileCount", Val::U32(1)),
                ],
            ));
        } else {
            // Not answering: WinHTTP's ERROR_WINHTTP_CANNOT_CONNECT.
            events.push(bits_event(
                61,
                t + 23 * FT_SECOND,
                host,
                transfer(Some(0x8007_2EFD), 0),
            ));
        }
    }
    events.extend(extra);
    events.sort_by_key(|e| e.time);
    write(&events, 4_201)
}

/// The account name of a demo SID (the SAM's), for the events' `DOMAIN\user` text.
fn owner_name(sid: &str) -> &'static str {
    match sid.rsplit('-').next() {
        Some("1104") => "m.keller",
        Some("1107") => "svc.backup",
        Some("18") => "SYSTEM",
        _ => "user",
    }
}

/// A job the workstation's queue no longer holds, from before the first stage: created by
/// bitsadmin, its notify program launched and failing (63), BITS retrying.
pub fn gone_job(m: &Machine, host: &str, at: u64) -> Vec<Event> {
    let s = |v: &str| Val::Str(v.to_string());
    let id = Val::Guid([
        0x9d, 0x41, 0x07, 0x2c, 0x5e, 0x13, 0x4a, 0x8f, 0xb0, 0x6c, 0x21, 0xe7, 0x3f, 0x90, 0x58,
        0xd4,
    ]);
    let owner = format!("{host}\\m.keller");
    let url = "http://198.51.100.23:8443/probe.txt";
    let _ = m;
    vec![
        bits_event(
            3,
            at,
            host,
            vec![
                ("jobTitle", s("probe")),
                ("jobId", id.clone()),
                ("jobOwner", s(&owner)),
                ("processPath", s(r"C:\Windows\System32\bitsadmin.exe")),
                ("processId", Val::U32(7312)),
            ],
        ),
        bits_event(
            59,
            at + 3 * FT_SECOND,
            host,
            vec![
                ("transferId", Val::Guid([0x61; 16])),
                ("name", s("probe")),
                ("Id", id.clone()),
                ("url", s(url)),
                ("peer", s("")),
                ("bytesTotal", Val::U64(96)),
            ],
        ),
        bits_event(
            60,
            at + 4 * FT_SECOND,
            host,
            vec![
                ("transferId", Val::Guid([0x61; 16])),
                ("name", s("probe")),
                ("Id", id),
                ("url", s(url)),
                ("peer", s("")),
                ("hr", Val::U32(0)),
                ("bytesTotal", Val::U64(96)),
                ("bytesTransferred", Val::U64(96)),
            ],
        ),
        bits_event(
            63,
            at + 5 * FT_SECOND,
            host,
            vec![
                ("Job", s("probe")),
                ("Url", s(url)),
                ("Pgm", s(r"C:\Users\Public\Libraries\run.cmd")),
                ("hr", Val::U32(0x8007_0002)),
            ],
        ),
    ]
}
