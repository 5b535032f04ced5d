//! The whole story in an NTFS image made here: a qmgr.db, its Bits-Client log, a SAM, the
//! payload file and a deleted `BIT*.tmp`. `bitscope parse IMAGE --format timeline` must give the
//! job's creation (queue), event 3 (with its process), 59, 60 and the files' MFT times in
//! time order, each with its source; the MFT facts must equal sleuthkit's `istat`.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;

use std::fs;
use std::process::Command;

use bitscope::gen::blobs::{random_job, Machine};
use bitscope::gen::evtx::{bits_event, write, Val};
use bitscope::gen::generate_jobs;
use bitscope::gen::rng::Rng;
use bitscope::hive::accounts::sam;
use bitscope::hive::Hive;
use serde_json::Value;

const SECOND: u64 = 10_000_000;
const PAYLOAD: &str = "Users/alice/Downloads/payload.exe";
const TEMP: &str = "Users/alice/Downloads/BIT1A2B.tmp";

fn now_filetime() -> u64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    unix.as_secs() * SECOND + u64::from(unix.subsec_nanos()) / 100 + 116_444_736_000_000_000
}

/// istat's times (`-z UTC`: `2026-12-07 12:30:01.123456789 (UTC)`) by label, per attribute
/// section, as FILETIMEs; and its size.
/// (attribute section, label, FILETIME) of every time istat prints.
type IstatTimes = Vec<(String, String, u64)>;

fn istat(image: &std::path::Path, entry: u64) -> Option<(IstatTimes, u64)> {
    let out = Command::new("istat")
        .args(["-z", "UTC"])
        .arg(image)
        .arg(entry.to_string())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut section = String::new();
    let mut times = Vec::new();
    let mut size = 0;
    for line in text.lines() {
        if line.starts_with("$STANDARD_INFORMATION") || line.starts_with("$FILE_NAME") {
            section = line.split_whitespace().next().unwrap().to_string();
        }
        if let Some(rest) = line.strip_prefix("Type: $DATA (128-") {
            size = rest
                .split("size: ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
        }
        let Some((label, value)) = line.split_once(":\t") else {
            continue;
        };
        let value = value.trim().trim_end_matches(" (UTC)");
        let Ok(t) = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f") else {
            continue;
        };
        let ns = t.and_utc().timestamp_nanos_opt()?;
        let ft = (ns / 100) as u64 + 116_444_736_000_000_000;
        times.push((section.clone(), label.trim().to_string(), ft));
    }
    Some((times, size))
}

#[test]
fn parse_image_timeline_tells_the_story_in_order() {
    let Some(sam_path) = common::sample("registry/SAM") else {
        return;
    };
    if Command::new("istat").arg("-V").output().is_err() {
        common::skip("sleuthkit's istat (Debian: sleuthkit)");
        return;
    }
    let sam_bytes = fs::read(&sam_path).unwrap();
    let machine_sid = sam(&Hive::open(&sam_bytes).unwrap()).machine_sid.unwrap();
    let owner = format!("{machine_sid}-1001"); // gold_administrator, as the SAM says

    // The job: created a minute ago, its file a payload in alice's Downloads.
    let created = now_filetime() - 60 * SECOND;
    let mut rng = Rng::new(1919);
    let machine = Machine::random(&mut rng);
    let mut job = random_job(&mut rng, &machine, 1);
    job.job.name = "story".into();
    job.job.owner_sid = owner.clone();
    job.job.created = created;
    job.job.modified = created + 30 * SECOND;
    job.job.completed = 0;
    job.files[0].destination = format!(r"C:\{}", PAYLOAD.replace('/', "\\"));
    job.files[0].temp_path = format!(r"C:\{}", TEMP.replace('/', "\\"));
    job.files[0].url = "http://198.51.100.23:8443/stage1.ps1".into();
    let id = job.job.id;
    let db = generate_jobs(3, created + 40 * SECOND, &[job], &[]).unwrap();
    let guid = Val::Guid(id);
    let s = |v: &str| Val::Str(v.into());
    let transfer = |hr: Option<u32>| {
        let mut v = vec![
            ("transferId", Val::Guid([7; 16])),
            ("name", s("story")),
            ("Id", guid.clone()),
            ("url", s("http://198.51.100.23:8443/stage1.ps1")),
            ("peer", s("")),
        ];
        if let Some(hr) = hr {
            v.push(("hr", Val::U32(hr)));
        }
        v.push(("bytesTotal", Val::U64(4096)));
        v
    };
    let log = write(
        &[
            bits_event(
                3,
                created + SECOND / 10,
                "WS1",
                vec![
                    ("jobTitle", s("story")),
                    ("jobId", guid.clone()),
                    ("jobOwner", s("WS1\\gold_administrator")),
                    (
                        "processPath",
                        s(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"),
                    ),
                    ("processId", Val::U32(6120)),
                ],
            ),
            bits_event(59, created + 2 * SECOND, "WS1", transfer(None)),
            bits_event(60, created + 4 * SECOND, "WS1", transfer(Some(0))),
        ],
        100,
    );

    // The volume: mkntfs on a file, the files written through ntfs-3g, the temporary deleted.
    let dir = common::scratch_dir("story-image");
    let vol = dir.join("volume.ntfs");
    fs::File::create(&vol).unwrap().set_len(64 << 20).unwrap();
    let made = Command::new("mkntfs")
        .args(["-F", "-Q", "-q", "-s", "512"])
        .arg(&vol)
        .status();
    if !made.is_ok_and(|s| s.success()) {
        common::skip("mkntfs (Debian: ntfs-3g)");
        return;
    }
    let mnt = dir.join("mnt");
    fs::create_dir_all(&mnt).unwrap();
    let Some(mut daemon) = disk_image::mount(&vol, &mnt, &[]) else {
        return;
    };
    let wrote = (|| -> std::io::Result<()> {
        let put = |rel: &str, bytes: &[u8]| -> std::io::Result<()> {
            let p = mnt.join(rel);
            fs::create_dir_all(p.parent().unwrap())?;
            fs::write(p, bytes)
        };
        put(
            "ProgramData/Microsoft/Network/Downloader/qmgr.db",
            &db.bytes,
        )?;
        put(
            "Windows/System32/winevt/Logs/Microsoft-Windows-Bits-Client%4Operational.evtx",
            &log,
        )?;
        put("Windows/System32/config/SAM", &sam_bytes)?;
        put(TEMP, &[0x42; 4096])?;
        fs::File::open(mnt.join(TEMP))?.sync_all()?;
        fs::remove_file(mnt.join(TEMP))?;
        put(PAYLOAD, &[0x4d; 4096])
    })();
    disk_image::unmount(&mnt, &mut daemon);
    wrote.unwrap();

    let out = common::run_bitscope(["parse", vol.to_str().unwrap(), "--format", "timeline"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["job_name"] == "story")
        .collect();
    let desc: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{} | {} | {}",
                e["datetime"], e["timestamp_desc"], e["source"]
            )
        })
        .collect();
    let find = |what: &str, source: &str| {
        entries
            .iter()
            .position(|e| e["timestamp_desc"] == what && e["source"] == source)
            .unwrap_or_else(|| panic!("{what} from {source} in:\n{}", desc.join("\n")))
    };
    let order = [
        find("job created", "queue"),
        find("job created (event 3)", "event log"),
        find("transfer started (event 59)", "event log"),
        find("transfer stopped (event 60)", "event log"),
        find("payload file created ($SI)", "MFT"),
        find("payload file modified ($SI)", "MFT"),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "{order:?}:\n{}",
        desc.join("\n")
    );
    let event3 = &entries[order[1]];
    assert!(event3["detail"]
        .as_str()
        .unwrap()
        .contains("powershell.exe (pid 6120)"));
    assert!(event3["provenance"]
        .as_str()
        .unwrap()
        .contains("Bits-Client%4Operational.evtx"));
    let times: Vec<&str> = entries
        .iter()
        .map(|e| e["datetime"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "time order:\n{}",
        desc.join("\n")
    );
    // The account, from the SAM in the image.
    assert_eq!(entries[0]["owner_account"], "gold_administrator");

    // The MFT facts against istat: every $SI time of the payload and of the deleted temporary.
    for (role, rel, deleted) in [
        ("payload file", PAYLOAD, false),
        ("temporary file", TEMP, true),
    ] {
        let facts: Vec<&Value> = entries
            .iter()
            .filter(|e| {
                e["source"] == "MFT" && e["timestamp_desc"].as_str().unwrap().starts_with(role)
            })
            .collect();
        assert!(!facts.is_empty(), "{role}:\n{}", desc.join("\n"));
        let detail = facts[0]["detail"].as_str().unwrap();
        let entry: u64 = detail
            .split("MFT entry ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            detail.contains(if deleted { "deleted" } else { "in use" }),
            "{detail}"
        );
        assert!(
            detail.starts_with(&format!("\\{}", rel.replace('/', "\\"))),
            "{detail}"
        );
        let (istat_times, size) = istat(&vol, entry).expect("istat");
        assert!(
            detail.contains(&format!(", {size} bytes")),
            "{detail} vs istat size {size}"
        );
        for (label, what) in [
            ("Created", "created"),
            ("File Modified", "modified"),
            ("MFT Modified", "MFT entry changed"),
            ("Accessed", "accessed"),
        ] {
            let theirs = istat_times
                .iter()
                .find(|(s, l, _)| s == "$STANDARD_INFORMATION" && l == label)
                .map(|t| t.2)
                .expect("istat $SI time");
            let ours = facts
                .iter()
                .find(|e| e["timestamp_desc"] == format!("{role} {what} ($SI)"))
                .and_then(|e| e["filetime"].as_u64())
                .unwrap_or_else(|| panic!("{role} {what}"));
            // Exact: istat prints the FILETIME's 100 ns digits.
            assert_eq!(ours, theirs, "{role} {label}");
        }
        println!("{role}: MFT entry {entry}, {size} bytes, $SI times equal istat's");
    }
    println!("timeline:\n{}", desc.join("\n"));
}
