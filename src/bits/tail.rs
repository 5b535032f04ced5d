//! The end of a job record, from the proxy settings on: proxy usage and lists, the custom HTTP
//! headers, the settings block and, in Win10+ blobs, the client section (who made the job), the
//! HTTP verb and the trailer up to the closing marker. `job.rs` reads everything before it.
//!
//! # Layout
//!
//! Offsets of the Windows 11 24H2 sample's live job (`ese/win11-24h2/qmgr.db`, "Edge Component
//! Updater", 2,212 bytes); in `blobs/win10/job.raw` the same fields start 0x52 bytes later
//! (0x6cb) and its client section has the GUID form (see below).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x679 | 4 | proxy usage: 0 preconfig, 1 no proxy, 2 override, 3 autodetect (BG_JOB_PROXY_USAGE) |
//! | 0x67d | 4[+2N] | proxy list, counted (N 0: none) |
//! | 0x681 | 4[+2N] | proxy bypass list, counted |
//! | 0x685 | 2 | unknown (zero in every sample) |
//! | 0x687 | 1 | custom headers flag; when 1: u64 plain size, u32 L, L bytes of a DPAPI blob |
//! | 0x688 | 48 | settings block: u32 words, see [`decode_settings`] |
//! | 0x6b8 | 42 | unknown (zero in all but one job kind) |
//! | 0x6e2 | 1 | client flag (0 or 1; changes between copies of one job; meaning unknown) |
//! | 0x6e3 | 16 | client GUID (the same in every job of one machine; meaning unknown) |
//! | 0x6f3 | 1 | identity kind: 1 a GUID follows, 0 a package identity follows |
//! | 0x6f4 | 1+4+84 | kind 0: flag 1, package family name (`Microsoft.OutlookForWindows_8wekyb3d8bbwe`) |
//! | 0x74d | 1+4+58 | flag 1, application id (`!Microsoft.OutlookforWindows`) |
//! | 0x78c | 1+4+16 | flag 1, a u32 (0x25 in every sample), a GUID (the client GUID again) |
//! | 0x7a1 | 21 | unknown (zero in every sample) |
//! | 0x7b6 | 4+180 | client path (`…\EdgeWebView\Application\127.0.2651.74\msedgewebview2.exe`) |
//! | 0x86e | 16 | four u32: 3, 0x12, 3, 0x13 in every sample |
//! | 0x87e | 4+8 | HTTP verb (`GET`) |
//! | 0x88a | 10 | trailer (some jobs keep a counted string here, e.g. `Schedule`) |
//! | 0x894 | 16 | closing job marker |
//!
//! # The client section: how a decoder knows which form follows
//!
//! The job marker is the same in all three sampled builds (`A15609E1…`, BITS 10.3.2) and so is
//! every header word, so no version field announces the new fields. The byte after the client
//! GUID does. Every job blob of the samples, live or carved, was checked:
//!
//! - Windows 10 22H2 (build 19045, 57 distinct job blobs live and carved) and Windows 11 21H2
//!   (build 22000, 14): that byte is 1 and a GUID follows (the client GUID again), then the 21
//!   zero bytes;
//! - Windows 11 24H2 (build 26100, 48): 44 blobs have the same form, 1 and a GUID; the 4
//!   blobs whose jobs were made by a packaged app (Outlook's WebView2, the Widgets board) have
//!   0, then the package identity: three flagged items, each a byte 1 then the value: the
//!   package family name, the application id (with its leading `!`: joined to the family
//!   name it is the app's AUMID, `Microsoft.OutlookForWindows_8wekyb3d8bbwe!Microsoft.OutlookforWindows`),
//!   and a u32 (0x25) with a GUID (the client GUID again). Then the same 21 zero bytes.
//!
//! So the section appears from build 26100 on as far as the bytes tell: no blob of 19045 or
//! 22000 has it, but none of their jobs came from a packaged app, so whether those builds
//! could write it is not known; builds between 22000 and 26100 are not sampled. No public
//! decoder reads it (artemis skips a fixed 163 bytes to the path; dissect.target, BitsParser
//! and ANSSI's bits_parser stop earlier). A flag byte of 0 inside the package identity is read
//! as "item absent"; that is a reading, not sampled.
//!
//! When the section holds anything else, the client path is found by what follows it: the
//! four constant words right after a counted string ending exactly there. The bytes skipped are
//! kept as unknown bytes and the record says so.
//!
//! # The settings block, 48 bytes
//!
//! u32 words at +0x00..+0x18: 0, 1, 0, 0x10000, 0, 0 in every sample. +0x18: the security
//! flags (`IBackgroundCopyJobHttpOptions::SetSecurityFlags`): the jobs of Mozilla's updater and
//! of Google Update hold 0x100 there, and both set exactly `BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT`
//! (0x100) in their public sources (Mozilla's `bits_client` `set_redirect_report`, Omaha's
//! `BitsRequest::SetJobRedirectReporting`); OneDrive's jobs hold 0x800
//! (`BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP`); SafeBreach's BITSInject template of the
//! legacy queue puts `SecurityFlags` at the same place. +0x1c: 0. +0x20: the maximum download
//! time in seconds (`SetMaximumDownloadTime`; 7,776,000 = its documented default of 90 days,
//! 30 in Office's Click-to-Run jobs). +0x24: unknown (0, 1, 6, 0x10 or 0x21). +0x28: 0.
//! +0x2c: cost flags (`BITS_COST_STATE` bits). The legacy queue's block ends after the
//! maximum download time in Windows 7's records.
//!
//! Not located, for want of a sample that sets them: the maximum download size, the client
//! certificate, credentials, the upload reply file. Bytes of unknown meaning that differ from
//! what every sample holds are kept (`JobRecord::unknown`), so a job that sets them shows it.

use crate::bits::job::{ClientIdentity, Flavor, JobRecord, Package};
use crate::bits::reader::{find, find_in_record, DecodeError, Reader};
use crate::util::bytes::{slice, Cursor};
use crate::util::guid::Guid;
use crate::util::utf16::decode_utf16le_strict;

/// Largest DPAPI blob of custom headers accepted.
const MAX_BLOB: u32 = 1 << 20;
/// How far past the last decoded field a trailer may run (the samples have 10 to 91 bytes): kept
/// short so that a cut record does not take the next record's opening marker as its own end.
const TRAILER_LIMIT: usize = 1024;
/// The four words after the client path in every sample.
const AFTER_PATH: [u8; 16] = [3, 0, 0, 0, 0x12, 0, 0, 0, 3, 0, 0, 0, 0x13, 0, 0, 0];
/// The settings block's first 24 bytes in every sample: u32 0, 1, 0, 0x10000, 0, 0.
const SETTINGS_HEAD: [u8; 24] = [
    0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Proxy settings, custom headers, settings block and, Win10+, the client section to the
/// closing marker (offsets as in the module table).
pub(crate) fn decode_tail(
    r: &mut Reader<'_>,
    job: &mut JobRecord,
    flavor: Flavor,
) -> Result<(), DecodeError> {
    job.proxy_usage = Some(r.u32("proxy usage")?);
    job.proxy_list = r.opt_string("proxy list")?;
    job.proxy_bypass = r.opt_string("proxy bypass list")?;
    if job.proxy_list.is_some() || job.proxy_bypass.is_some() {
        // Every sampled job has both counts 0; BITSInject's template reads a byte before each
        // list instead. The two agree on an empty list only.
        r.warn(
            "proxy list read as counted strings (u32 count, UTF-16): no sample holds a proxy list to confirm the layout".into(),
        );
    }
    r.unknown("unknown (2 bytes)", &[0, 0])?;
    if r.u8("custom headers flag")? != 0 {
        job.custom_headers_size = Some(r.u64("custom headers size")?);
        let len_at = r.pos();
        let len = r.u32("custom headers length")?;
        r.check_count("custom headers length", len_at, len, MAX_BLOB, 1)?;
        let at = r.pos();
        r.skip("custom headers (DPAPI blob)", len as usize)?;
        job.custom_headers = Some((at, len as usize));
    }
    match flavor {
        Flavor::Ese => {
            decode_settings(r, job, 48)?;
            decode_client(r, job)
        }
        Flavor::Legacy => decode_legacy_end(r, job),
    }
}

/// The settings block, or its first `len` bytes (a legacy block may end early).
fn decode_settings(r: &mut Reader<'_>, job: &mut JobRecord, len: usize) -> Result<(), DecodeError> {
    if len < 0x24 {
        return Ok(());
    }
    r.unknown("settings (unknown)", &SETTINGS_HEAD)?;
    job.security_flags = Some(r.u32("security flags")?);
    r.unknown("settings (unknown)", &[0; 4])?;
    job.max_download_time = Some(r.u32("maximum download time")?);
    if len >= 0x30 {
        r.unknown("settings (unknown)", &[0; 8])?;
        job.cost_flags = Some(r.u32("cost flags")?);
    }
    Ok(())
}

/// The legacy end after the custom headers: the settings block as far as it goes, then the
/// rest kept as a trailer up to the closing delimiter.
fn decode_legacy_end(r: &mut Reader<'_>, job: &mut JobRecord) -> Result<(), DecodeError> {
    let from = r.pos();
    let marker = job.marker.0;
    let Some(end) = find(r.buf, &marker, from, TRAILER_LIMIT) else {
        return Err(DecodeError::Missing {
            what: "closing job delimiter",
            offset: from,
        });
    };
    decode_settings(r, job, end.saturating_sub(from))?; // found at or after `from`
    scan_trailer(r, job, r.pos(), end);
    r.seek(end);
    Ok(())
}

/// The Win10+ client section, the client path, the HTTP verb and the trailer.
fn decode_client(r: &mut Reader<'_>, job: &mut JobRecord) -> Result<(), DecodeError> {
    r.unknown("unknown (42 bytes)", &[0; 42])?;
    let from = r.pos();
    let sampled = (|| {
        job.client_flag = Some(r.u8("client flag")?);
        job.client_guid = Some(Guid(r.array("client GUID")?));
        job.identity = Some(decode_identity(r)?);
        r.unknown("unknown (21 bytes)", &[0; 21])?;
        r.strict_string("client path")
    })();
    let path = match sampled {
        Ok(path) => path,
        Err(e) => resync_client_path(r, job, from, e)?,
    };
    job.client_path = Some(path);
    let words_at = r.pos();
    let words = r.take("unknown words", 16)?;
    r.undecoded.push((words_at, 16));
    if words != AFTER_PATH {
        r.warn(format!(
            "words at {words_at} are {}, not 03000000 12000000 03000000 13000000 as in every sample",
            crate::util::bytes::hex(words)
        ));
    }
    job.http_method = Some(r.strict_string("HTTP method")?);
    // The trailer's layout differs between jobs ("Schedule" or not); it is kept as bytes, with
    // any counted strings in it listed.
    let from = r.pos();
    let marker = job.marker.0;
    let Some(end) = find(r.buf, &marker, from, TRAILER_LIMIT) else {
        return Err(DecodeError::Missing {
            what: "closing job marker",
            offset: from,
        });
    };
    scan_trailer(r, job, from, end);
    r.seek(end);
    Ok(())
}

/// The byte after the client GUID and what it announces (see the module documentation).
fn decode_identity(r: &mut Reader<'_>) -> Result<ClientIdentity, DecodeError> {
    let at = r.pos();
    match r.u8("identity kind")? {
        1 => Ok(ClientIdentity::Guid(Guid(r.array("GUID")?))),
        0 => {
            let mut p = Package::default();
            if flag(r, "package family name flag")? {
                p.family_name = Some(r.strict_string("package family name")?);
            }
            if flag(r, "application id flag")? {
                p.app_id = Some(r.strict_string("application id")?);
            }
            if flag(r, "package GUID flag")? {
                p.word = Some(r.u32("package word")?);
                p.guid = Some(Guid(r.array("package GUID")?));
            }
            Ok(ClientIdentity::Package(p))
        }
        v => Err(DecodeError::Unexpected {
            what: "identity kind",
            offset: at,
            value: u64::from(v),
        }),
    }
}

/// A presence byte: 1 present, 0 absent, anything else an error.
fn flag(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    let at = r.pos();
    match r.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(DecodeError::Unexpected {
            what,
            offset: at,
            value: u64::from(v),
        }),
    }
}

/// The client section did not follow a sampled form (`why`): find the client path by what
/// follows it (the four constant words right after a counted string that ends there), keep
/// the bytes in between as unknown, and go on from the path. Errs with `why` when no such
/// path lies inside this record.
fn resync_client_path(
    r: &mut Reader<'_>,
    job: &mut JobRecord,
    from: usize,
    why: DecodeError,
) -> Result<String, DecodeError> {
    let marker = job.marker.0;
    let Some(words) = find_in_record(r.buf, &AFTER_PATH, from, &marker) else {
        return Err(why);
    };
    // Nor may the record's own marker lie anywhere between its header and the words: a record
    // cut short and followed by another has run its fixed fields into that one's start, and
    // the path found would be the next record's.
    let body = job.marker_offset.saturating_add(16);
    if find(r.buf, &marker, body, words.saturating_sub(body)).is_some_and(|m| m < words) {
        return Err(why);
    }
    let Some(at) = (from..words.saturating_sub(5)).find(|&c| path_ends_at(r.buf, c, words)) else {
        return Err(why);
    };
    // The fields read before the failure stay; the client identity is not claimed.
    job.identity = None;
    r.fields.retain(|(_, off, _)| *off < from);
    let skipped = at.saturating_sub(from); // `at` is taken from `from..`
    r.fields
        .push(("client section (unknown layout)", from, skipped));
    r.unknown.retain(|(off, _)| *off < from);
    r.unknown.push((from, skipped));
    r.undecoded.retain(|(off, _)| *off < from);
    r.undecoded.push((from, skipped));
    r.warn(format!(
        "client section at {from} does not follow a sampled layout ({why}); resumed at the client path found at {at}, the {skipped} bytes before it kept as unknown"
    ));
    r.seek(at);
    r.strict_string("client path")
}

/// Is there, at `at`, a counted string of valid NUL-terminated UTF-16 that ends at `end`?
fn path_ends_at(buf: &[u8], at: usize, end: usize) -> bool {
    let Some(n) = Cursor::at(buf, at).u32() else {
        return false;
    };
    let Some(len) = (n as usize).checked_mul(2) else {
        return false;
    };
    if n == 0 || at.saturating_add(4).saturating_add(len) != end {
        return false;
    }
    let Some(text) = buf.get(at.saturating_add(4)..end) else {
        return false;
    };
    // One NUL, at the end (the decoder drops trailing NULs), as the reader's strict string.
    text.ends_with(&[0, 0]) && decode_utf16le_strict(text).is_some_and(|s| !s.contains('\0'))
}

/// Record the trailer [from, end) and the counted strings in it (SIDs among them are the
/// additional SIDs). A string must be 2..=260 units, valid UTF-16, NUL-terminated and printable.
fn scan_trailer(r: &mut Reader<'_>, job: &mut JobRecord, from: usize, end: usize) {
    let Some(len) = end.checked_sub(from).filter(|&n| n > 0) else {
        return;
    };
    job.trailer = Some((from, len));
    r.fields.push(("trailer", from, len));
    r.undecoded.push((from, len));
    let Some(bytes) = r.buf.get(from..end) else {
        return;
    };
    // `i` stays within `bytes` (and `from + i` within the buffer): the sums cannot overflow.
    let mut i = 0usize;
    while bytes.len().saturating_sub(i) >= 4 {
        let found = Cursor::at(bytes, i).u32().and_then(|n| {
            let units = usize::try_from(n).ok().filter(|n| (2..=260).contains(n))?;
            let text = slice(bytes, i.checked_add(4)?, units.checked_mul(2)?)?;
            // Its last unit is a NUL.
            let nul = text.ends_with(&[0, 0]);
            let s = decode_utf16le_strict(text)
                .filter(|s| nul && !s.is_empty() && s.chars().all(|c| !c.is_control()))?;
            Some((text.len().checked_add(4)?, s))
        });
        let at = from.saturating_add(i);
        match found {
            Some((size, s)) => {
                r.fields.push(("trailer string", at, size));
                if s.starts_with("S-1-") {
                    job.additional_sids.push(s.clone());
                }
                job.trailer_strings.push((at, s));
                i = i.saturating_add(size);
            }
            None => i = i.saturating_add(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::bits::job::test_support::sample;
    use crate::bits::job::{decode_job_blob, ClientIdentity, JobRecord};
    use crate::bits::qmgr::for_each_job;
    use crate::ese::Database;

    /// The live job blobs of a sampled qmgr.db.
    fn live_blobs(rel: &str) -> Option<Vec<Vec<u8>>> {
        let db = sample(rel)?;
        let db = Database::open(&db).expect("opens");
        let mut blobs = Vec::new();
        for_each_job(&db, rel, false, &mut Vec::new(), &mut |e| {
            blobs.push(e.blob);
            true
        });
        Some(blobs)
    }

    fn field(j: &JobRecord, name: &str) -> Option<(usize, usize)> {
        j.fields
            .iter()
            .find(|f| f.0 == name)
            .map(|&(_, o, l)| (o, l))
    }

    #[test]
    fn win11_24h2_job_decodes_to_its_end() {
        let Some(blobs) = live_blobs("ese/win11-24h2/qmgr.db") else {
            return;
        };
        let [b] = blobs.as_slice() else {
            panic!("one live job, not {}", blobs.len())
        };
        let j = decode_job_blob(b).expect("decodes");
        assert!(j.closed && j.stopped.is_none(), "{:?}", j.warnings);
        assert!(j.warnings.is_empty(), "{:?}", j.warnings);
        assert_eq!(j.len, b.len());
        assert_eq!(j.name.as_deref(), Some("Edge Component Updater"));
        assert_eq!(
            j.client_path.as_deref(),
            Some(
                r"C:\Program Files (x86)\Microsoft\EdgeWebView\Application\127.0.2651.74\msedgewebview2.exe"
            )
        );
        assert_eq!(j.http_method.as_deref(), Some("GET"));
        let guid = "60262afb-bfa5-4382-a0a6-f1837f9ca0a4";
        assert_eq!(j.client_flag, Some(1));
        assert_eq!(j.client_guid.map(|g| g.to_string()).as_deref(), Some(guid));
        let Some(ClientIdentity::Package(p)) = &j.identity else {
            panic!("a package identity, not {:?}", j.identity)
        };
        assert_eq!(
            p.family_name.as_deref(),
            Some("Microsoft.OutlookForWindows_8wekyb3d8bbwe")
        );
        assert_eq!(p.app_id.as_deref(), Some("!Microsoft.OutlookforWindows"));
        assert_eq!(p.word, Some(0x25));
        assert_eq!(p.guid.map(|g| g.to_string()).as_deref(), Some(guid));
        // The offsets of the module table.
        assert_eq!(field(&j, "proxy usage"), Some((0x679, 4)));
        assert_eq!(field(&j, "security flags"), Some((0x6a0, 4)));
        assert_eq!(field(&j, "maximum download time"), Some((0x6a8, 4)));
        assert_eq!(field(&j, "cost flags"), Some((0x6b4, 4)));
        assert_eq!(field(&j, "client flag"), Some((0x6e2, 1)));
        assert_eq!(field(&j, "identity kind"), Some((0x6f3, 1)));
        assert_eq!(field(&j, "package family name"), Some((0x6f5, 88)));
        assert_eq!(field(&j, "application id"), Some((0x74e, 62)));
        assert_eq!(field(&j, "package word"), Some((0x78d, 4)));
        assert_eq!(field(&j, "client path"), Some((0x7b6, 184)));
        assert_eq!(field(&j, "HTTP method"), Some((0x87e, 12)));
        assert_eq!(j.trailer, Some((0x88a, 10)));
        assert_eq!(
            (j.proxy_usage, j.security_flags, j.max_download_time),
            (Some(0), Some(0), Some(7_776_000))
        );
        // The settings word at +0x24 (0x10 here) is the one byte run that differs from the
        // other samples.
        assert_eq!(j.unknown, vec![(0x6ac, 8)]);
    }

    #[test]
    fn a_client_section_of_another_form_is_skipped_to_the_path_and_kept() {
        let Some(blobs) = live_blobs("ese/win11-24h2/qmgr.db") else {
            return;
        };
        let mut b = blobs[0].clone();
        b[0x6f3] = 7; // an identity kind no sample holds
        let j = decode_job_blob(&b).expect("decodes");
        assert!(j.closed && j.stopped.is_none(), "{:?}", j.warnings);
        assert!(j
            .client_path
            .as_deref()
            .is_some_and(|p| p.ends_with("msedgewebview2.exe")));
        assert_eq!(j.http_method.as_deref(), Some("GET"));
        assert_eq!(j.identity, None, "not claimed");
        assert!(
            j.unknown.contains(&(0x6e2, 0x7b6 - 0x6e2)),
            "{:?}",
            j.unknown
        );
        assert!(
            j.warnings.iter().any(|w| w.starts_with(
                "client section at 1762 does not follow a sampled layout (identity kind at offset 1779: value 0x7"
            )),
            "{:?}",
            j.warnings
        );
        let missing = crate::bits::model::missing_job_fields(&j);
        assert_eq!(
            missing,
            [
                "package_family_name",
                "application_id",
                "package_guid",
                "max_download_size",
                "client_certificate",
                "credential_targets"
            ]
        );
        // With the path's own count broken too, nothing can be found: decoding stops there.
        b[0x7b6] = 0xff;
        let j = decode_job_blob(&b).expect("decodes");
        assert!(!j.closed && j.client_path.is_none());
        assert!(matches!(
            j.stopped,
            Some(crate::bits::DecodeError::Unexpected { offset: 0x6f3, .. })
        ));
    }

    #[test]
    fn a_cut_24h2_job_warns_once_and_lists_what_it_lost() {
        let Some(db) = sample("ese/win11-24h2/qmgr.db") else {
            return;
        };
        let db = Database::open(&db).expect("opens");
        let mut entries = Vec::new();
        for_each_job(&db, "24h2", false, &mut Vec::new(), &mut |e| {
            entries.push(e);
            true
        });
        let mut e = entries.swap_remove(0);
        // The whole job first: nothing missing but the file the row was not given.
        let whole = crate::bits::decoded::row(Some(&e), None, None);
        assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
        assert!(!whole.missing_fields.iter().any(|m| m == "target_path"));
        // Cut in the package family name (0x6f4 + 1 + 4 + 84).
        e.blob.truncate(0x720);
        e.job = decode_job_blob(&e.blob).expect("decodes what is there");
        assert!(e.job.stopped.is_some());
        let r = crate::bits::decoded::row(Some(&e), None, None);
        let stops: Vec<_> = r
            .warnings
            .iter()
            .filter(|w| w.contains("decoding stopped"))
            .collect();
        assert_eq!(stops.len(), 1, "{:?}", r.warnings);
        assert!(
            stops[0].starts_with("job decoding stopped: "),
            "{}",
            stops[0]
        );
        for lost in [
            "target_path",
            "http_method",
            "package_family_name",
            "application_id",
            "package_guid",
        ] {
            assert!(
                r.missing_fields.iter().any(|m| m == lost),
                "{lost}: {:?}",
                r.missing_fields
            );
        }
        // What was read before the cut is not listed.
        for kept in [
            "job_name",
            "owner_sid",
            "proxy_usage",
            "security_flags",
            "created",
        ] {
            assert!(!r.missing_fields.iter().any(|m| m == kept), "{kept}");
        }
        assert_eq!(r.job_name, "Edge Component Updater");
        assert_eq!(r.target_path, "");
    }

    #[test]
    fn older_builds_have_the_guid_form() {
        for (rel, n) in [("ese/win10/qmgr.db", 1), ("ese/win11/qmgr.db", 4)] {
            let Some(blobs) = live_blobs(rel) else {
                return;
            };
            assert_eq!(blobs.len(), n);
            for b in &blobs {
                let j = decode_job_blob(b).expect("decodes");
                assert!(j.closed && j.stopped.is_none(), "{rel}: {:?}", j.warnings);
                let Some(ClientIdentity::Guid(g)) = j.identity else {
                    panic!("{rel}: the GUID form, not {:?}", j.identity)
                };
                assert_eq!(Some(g), j.client_guid, "{rel}");
            }
        }
    }
}

#[cfg(test)]
mod census {
    //! The counts the module documentation cites, measured on every job blob of the samples.
    use crate::bits::carve::{carve_ese, Carved};
    use crate::bits::job::test_support::sample;
    use crate::bits::job::ClientIdentity;
    use crate::bits::qmgr::for_each_job;
    use crate::ese::Database;

    /// (GUID form, package form, other) over the live and carved job blobs of a sample,
    /// identical copies counted once; every one of them a download job (type 0 in both
    /// readings), so no sample shows an upload or upload-reply job's bytes (README, Fields).
    fn forms(rel: &str) -> Option<(usize, usize, usize)> {
        let bytes = sample(rel)?;
        let db = Database::open(&bytes).expect("opens");
        let mut jobs = Vec::new();
        for_each_job(&db, rel, false, &mut Vec::new(), &mut |e| {
            jobs.push((e.blob, e.job));
            true
        });
        let (carved, _) = carve_ese(&db, rel);
        for c in carved {
            if let Carved::Job(e) = c {
                jobs.push((e.blob, e.job));
            }
        }
        jobs.sort_by(|a, b| a.0.cmp(&b.0));
        jobs.dedup_by(|a, b| a.0 == b.0);
        let mut n = (0, 0, 0);
        for (_, j) in &jobs {
            assert_eq!((j.type_at_16, j.type_at_28), (0, 0), "{rel}: {:?}", j.name);
            match j.identity {
                Some(ClientIdentity::Guid(_)) => n.0 += 1,
                Some(ClientIdentity::Package(_)) => n.1 += 1,
                None => n.2 += 1,
            }
        }
        Some(n)
    }

    #[test]
    fn the_package_form_is_only_in_24h2() {
        let (Some(w10), Some(w11), Some(h2)) = (
            forms("ese/win10/qmgr.db"),
            forms("ese/win11/qmgr.db"),
            forms("ese/win11-24h2/qmgr.db"),
        ) else {
            return;
        };
        assert_eq!((w10, w11, h2), ((57, 0, 0), (14, 0, 0), (44, 4, 0)));
    }
}
