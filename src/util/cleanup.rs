//! Files to remove when the process is ended by a signal: the temporary outputs being written
//! (`output::AtomicFile`'s `.target.PID.N.tmp`), so none outlives SIGINT, SIGTERM, SIGHUP,
//! SIGQUIT, SIGABRT or a SIGBUS that is not evidence shrinking (`input.rs`).
//!
//! A signal handler may only do async-signal-safe work: the paths wait as C strings in a fixed
//! table of atomic pointers, and the handler unlinks each, then lets the signal do what it
//! would have done (the default action: the process ends by that signal, as before). A signal
//! someone else handles or ignores (`nohup` ignores SIGHUP) is left to them.

#[cfg(unix)]
mod imp {
    use std::ffi::CString;
    use std::path::Path;
    use std::sync::atomic::{AtomicPtr, Ordering};
    use std::sync::Once;

    /// Temporary files tracked at once (more are written, just not removed by a signal).
    const SLOTS: usize = 64;
    static PATHS: [AtomicPtr<libc::c_char>; SLOTS] =
        [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];
    static INSTALL: Once = Once::new();

    /// A path removed if a signal ends the process, until this is dropped.
    #[derive(Debug)]
    pub struct Tracked(Option<usize>);

    /// Track `path` (installing the handlers the first time).
    pub fn track(path: &Path) -> Tracked {
        INSTALL.call_once(install);
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
            return Tracked(None);
        };
        let raw = c.into_raw();
        for (i, slot) in PATHS.iter().enumerate() {
            if slot
                .compare_exchange(
                    std::ptr::null_mut(),
                    raw,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                return Tracked(Some(i));
            }
        }
        // No free slot: the string is freed, the path not tracked.
        drop(unsafe_from_raw(raw));
        Tracked(None)
    }

    #[allow(unsafe_code)]
    fn unsafe_from_raw(raw: *mut libc::c_char) -> CString {
        // SAFETY: `raw` came from `CString::into_raw` just above and was never shared.
        unsafe { CString::from_raw(raw) }
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            let Some(i) = self.0 else { return };
            if let Some(slot) = PATHS.get(i) {
                // Left allocated: a handler running on another thread may hold the pointer.
                // A few bytes per output written, at most.
                slot.store(std::ptr::null_mut(), Ordering::Release);
            }
        }
    }

    /// Unlink every tracked path (async-signal-safe: loads, stores and `unlink`).
    #[allow(unsafe_code)]
    pub fn remove_all() {
        for slot in &PATHS {
            let p = slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
            if !p.is_null() {
                // SAFETY: `p` is a NUL-terminated string from `CString::into_raw`, never freed
                // once tracked.
                unsafe {
                    libc::unlink(p);
                }
            }
        }
    }

    extern "C" fn on_signal(sig: libc::c_int) {
        remove_all();
        // SA_RESETHAND has put the default action back; the signal, blocked while this
        // handler runs, is delivered again when it returns and ends the process as it would
        // have.
        #[allow(unsafe_code)]
        // SAFETY: raise is async-signal-safe.
        unsafe {
            libc::raise(sig);
        }
    }

    /// Handle the ending signals whose action is still the default one.
    #[allow(unsafe_code)]
    fn install() {
        for sig in [
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGABRT,
        ] {
            // SAFETY: plain sigaction calls on zeroed structs; the handler only unlinks and
            // raises (async-signal-safe).
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                    || old.sa_sigaction != libc::SIG_DFL
                {
                    continue;
                }
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                act.sa_flags = libc::SA_RESETHAND;
                libc::sigemptyset(&mut act.sa_mask);
                libc::sigaction(sig, &act, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::path::Path;

    #[derive(Debug)]
    pub struct Tracked;

    pub fn track(_: &Path) -> Tracked {
        Tracked
    }

    pub fn remove_all() {}
}

pub use imp::{remove_all, track, Tracked};
