//! Container formats bitscope recognizes but does not read, by their signatures, so that such
//! a file is named for what it is ("a qcow2 image: not read") instead of "not a BITS queue":
//!
//! - qcow2 (QEMU): `QFI\xfb` at 0;
//! - VMDK (VMware): a sparse extent (`KDMV` at 0), an ESXi sparse extent (`COWD` at 0), or a
//!   descriptor file (text starting `# Disk DescriptorFile`);
//! - VDI (VirtualBox): the signature 0xbeda107f (u32, little-endian) at 64;
//! - EWF2 (EnCase 7's `.Ex01`: `EVF2\r\n\x81\0` at 0) and the logical evidence files `.L01`
//!   (`LVF\x09\x0d\x0a\xff\x00`) and `.Lx01` (`LEF2\r\n\x81\0`), which hold files, not a disk.

use super::ReadAt;

/// The name of the unsupported format `file` is in, if any.
pub fn name(file: &dyn ReadAt) -> Option<&'static str> {
    let mut head = [0u8; 72];
    let got = file.read_at(0, &mut head).ok()?;
    let head = head.get(..got)?;
    let starts = |sig: &[u8]| head.starts_with(sig);
    if starts(b"QFI\xfb") {
        Some("qcow2 (QEMU) image")
    } else if starts(b"KDMV") || starts(b"COWD") || starts(b"# Disk DescriptorFile") {
        Some("VMDK (VMware) image")
    } else if head.get(64..68) == Some(&0xbeda_107fu32.to_le_bytes()[..]) {
        Some("VDI (VirtualBox) image")
    } else if starts(b"EVF2\r\n\x81\0") {
        Some("EWF2 (EnCase 7 .Ex01) image")
    } else if starts(b"LVF\x09\x0d\x0a\xff\x00") || starts(b"LEF2\r\n\x81\0") {
        Some("EnCase logical evidence file (.L01/.Lx01)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_are_named() {
        let named = |b: &[u8]| super::name(&b.to_vec());
        assert_eq!(named(b"QFI\xfb\0\0\0\x03"), Some("qcow2 (QEMU) image"));
        assert_eq!(named(b"KDMV\x01\0\0\0"), Some("VMDK (VMware) image"));
        assert_eq!(
            named(b"# Disk DescriptorFile\nversion=1\n"),
            Some("VMDK (VMware) image")
        );
        let mut vdi = vec![0u8; 72];
        vdi[64..68].copy_from_slice(&0xbeda_107fu32.to_le_bytes());
        assert_eq!(named(&vdi), Some("VDI (VirtualBox) image"));
        assert_eq!(named(b"EVF\x09\x0d\x0a\xff\x00\x01"), None);
        assert_eq!(named(b""), None);
    }
}
