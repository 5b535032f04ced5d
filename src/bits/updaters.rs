//! The browsers' own updaters, which the `exe` triage rule leaves alone (issue 22, defect 4):
//! Chrome's and Edge's updaters download their installers through BITS from their vendors'
//! CDNs, so on the win10 sample every `exe` finding (8) and on win11 every one (7) was one of
//! them. An updater download is recognised by both halves together: a host under one of the
//! CDNs below AND a file name the updaters give their downloads. Either alone still fires:
//! `GoogleUpdateSetup.exe` from any other host (a look-alike host included: hosts compare by
//! exact labels), or any other executable from `dl.google.com`.
//!
//! The names, as the samples hold them: BITS's local name is `{JOB-GUID}-` then the updater's
//! file name, which carries versions and an architecture, e.g.
//! `84.0.4147.89_83.0.4103.116_chrome_updater.exe`, `MicrosoftEdgeUpdateSetup_X86_1.3.139.59.exe`,
//! `MicrosoftEdge_X64_110.0.1587.69_110.0.1587.50.exe`. [`stem`] drops those parts.

/// The CDNs: the host is one of these or a name under it (`r6---sn-p5qs7ned.gvt1.com`,
/// `msedge.b.tlu.dl.delivery.mp.microsoft.com`).
const HOSTS: [&str; 4] = [
    "gvt1.com",
    "dl.google.com",
    "delivery.mp.microsoft.com",
    "edge.microsoft.com",
];

/// The updaters' download names, stems only (see [`stem`]), lowercase.
const NAMES: [&str; 7] = [
    "chrome_updater",
    "chrome_installer",
    "googleupdatesetup",
    "googleupdate",
    "microsoftedgeupdatesetup",
    "microsoftedgeupdate",
    "microsoftedge",
];

/// A file name's stem as the updaters vary it: lowercase, the `{GUID}-` BITS puts first and
/// the `.exe` gone, and of its `_`-separated parts those that are versions (digits and dots)
/// or architectures (`x86`, `x64`, `arm64`) left out. `None` when it is not an `.exe`.
fn stem(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    let name = match name.strip_prefix('{').and_then(|n| n.split_once("}-")) {
        Some((_, rest)) => rest.to_string(),
        None => name,
    };
    let base = name.strip_suffix(".exe")?;
    let kept: Vec<&str> = base
        .split('_')
        .filter(|p| {
            !p.is_empty()
                && !p.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && !matches!(*p, "x86" | "x64" | "arm64")
        })
        .collect();
    Some(kept.join("_"))
}

/// Is `host` (as the URL has it) one of the updaters' CDNs or a name under it?
fn known_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    HOSTS
        .iter()
        .any(|h| host == *h || host.strip_suffix(h).is_some_and(|head| head.ends_with('.')))
}

/// Is a download of `name` (a file name or path's last component) from `host` a browser
/// updater's own?
pub fn is_updater_download(host: &str, name: &str) -> bool {
    let name = name.rsplit(['\\', '/']).next().unwrap_or(name);
    known_host(host) && stem(name).is_some_and(|s| NAMES.contains(&s.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_the_cdn_and_the_name_make_an_updater() {
        for (host, name, want) in [
            (
                "r6---sn-p5qs7ned.gvt1.com",
                "{C8D534E6-ADCA-45CE-996A-F9FDD542F178}-84.0.4147.89_83.0.4103.116_chrome_updater.exe",
                true,
            ),
            (
                "msedge.b.tlu.dl.delivery.mp.microsoft.com",
                "MicrosoftEdgeUpdateSetup_X86_1.3.139.59.exe",
                true,
            ),
            (
                "msedge.b.tlu.dl.delivery.mp.microsoft.com",
                "MicrosoftEdge_X64_110.0.1587.69_110.0.1587.50.exe",
                true,
            ),
            ("dl.google.com", "GoogleUpdateSetup.exe", true),
            ("dl.google.com.evil.example", "GoogleUpdateSetup.exe", false),
            ("evilgvt1.com", "GoogleUpdateSetup.exe", false),
            ("dl.goog\u{406}e.com", "GoogleUpdateSetup.exe", false),
            ("dl.google.com", "payload.exe", false),
            ("dl.google.com", "GoogleUpdateSetup.exe.ps1", false),
            ("dl.google.com", "chrome_updater_evil.exe", false),
            ("gvt1.com", "", false),
        ] {
            assert_eq!(is_updater_download(host, name), want, "{host} {name}");
        }
    }
}
