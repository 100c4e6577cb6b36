//! Freed memory goes back to the system.
//!
//! glibc's allocator raises its trim threshold (up to 64 MiB) each time the
//! program frees a large block, so the memory a digest or a report of tens
//! of thousands of tasks used stays in the process after they are freed.
//! A fixed threshold turns that adjustment off: at 1M tasks, the RSS after
//! listing every open task, a digest and an SLA report was 172 MiB instead
//! of 203 (`benches/scale.rs`, BENCHMARKS.md), for a few more `brk` calls.
//!
//! [`return_freed_memory`] sets the fixed threshold ([`TRIM_THRESHOLD`], with glibc's
//! `mallopt`); `main` calls it first.

/// The trim threshold: free memory above it at the top of the heap is
/// returned (glibc's initial default).
pub const TRIM_THRESHOLD: usize = 128 * 1024;

/// Sets the fixed trim threshold. Call it first thing in `main`, before
/// other threads start. Returns whether the allocator took it (never where
/// the allocator is not glibc's).
pub fn return_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only sets an allocator parameter, and is called
        // before the program starts its threads.
        let ok = unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int) };
        ok == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    #[test]
    fn glibc_takes_the_threshold() {
        assert!(super::return_freed_memory());
    }
}
