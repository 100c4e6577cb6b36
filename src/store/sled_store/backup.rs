//! Where a backup may go, and its permissions: a copy of the store is as
//! secret as the store, so only the bot's user may read it.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Component, Path};

use super::StoreError;

fn refused(why: String) -> StoreError {
    StoreError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, why))
}

/// `dir` must be absolute, without `..`, not exist yet, have an existing
/// parent, and lie outside `data_dir` (the store's own directory).
pub(super) fn check_target(dir: &Path, data_dir: &str) -> Result<(), StoreError> {
    let shown = dir.display();
    if !dir.is_absolute() {
        return Err(refused(format!(
            "{shown} is not an absolute path: give the backup's full path"
        )));
    }
    if dir.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(refused(format!(
            "{shown} contains `..`: give a plain absolute path"
        )));
    }
    if dir.symlink_metadata().is_ok() {
        return Err(StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{shown} already exists: back up into a new directory"),
        )));
    }
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(refused(format!("{shown} has no parent directory")));
    };
    let parent = parent.canonicalize().map_err(|e| {
        refused(format!(
            "the folder of {shown} cannot be used ({e}): create it first"
        ))
    })?;
    let target = parent.join(name);
    if let Ok(data) = Path::new(data_dir).canonicalize() {
        if target.starts_with(&data) {
            return Err(refused(format!(
                "{shown} is inside the data directory {}: back up somewhere else",
                data.display()
            )));
        }
    }
    Ok(())
}

/// Creates `dir` (not its parents) readable by its owner only.
pub(super) fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::DirBuilder::new().mode(0o700).create(dir)?;
    Ok(())
}

/// Makes every file under `dir` 0600 and every folder 0700.
pub(super) fn make_private(dir: &Path) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            make_private(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// The free space a store needs to take changes: two of sled's 512 KiB log
/// segments.
pub const MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Whether the file system of `dir` has [`MIN_FREE_BYTES`] free for this
/// user; a directory that cannot be asked (a temporary store) passes.
pub(super) fn room_to_write(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return Ok(());
    };
    // SAFETY: statvfs fills the zeroed struct it is given from a
    // NUL-terminated path; both live across the call.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return Ok(());
    }
    let free = (stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64);
    if free < MIN_FREE_BYTES {
        return Err(StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!(
                "the disk of {} is full ({} KiB free)",
                dir.display(),
                free / 1024
            ),
        )));
    }
    Ok(())
}

impl super::SledStore {
    /// Whether the store refuses writes although its disk has room: sled,
    /// after a write failed (a full disk), refuses every read and write
    /// until it is reopened. Blocks (it tries a write).
    pub fn stuck(&self) -> bool {
        use super::Store;
        let failed = self
            .write_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        failed && room_to_write(Path::new(&self.path)).is_ok() && self.probe_write().is_err()
    }
}
