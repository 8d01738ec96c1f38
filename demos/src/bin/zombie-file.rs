//! Deleting an open file removes only its name: the data stays readable and writable, and its space comes back only when the last descriptor is closed.
//!
//! unlink(2): "If the name was the last link to a file but any processes still have
//! the file open, the file will remain in existence until the last file descriptor
//! referring to it is closed."
//!
//! Free space is a count for the whole filesystem, which other programs change too;
//! as root the demo measures a tmpfs mounted in its own mount namespace, where nothing
//! else writes. As another user it measures the filesystem under TMPDIR, and says so
//! (and skips) if something else moved the count while it watched.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::{Result, fd};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::statvfs::statvfs;

const MIB: u64 = 1 << 20;
/// Big enough that freeing it stands out from whatever else writes to the filesystem.
const SIZE_MIB: u64 = 64;

/// Free bytes on the filesystem holding `dir`, as statvfs counts them.
fn free_bytes(dir: &Path) -> Result<u64> {
    let st = statvfs(dir).with_context(|| format!("statvfs {}", dir.display()))?;
    Ok(st.blocks_free() * st.fragment_size())
}

/// A tmpfs mounted on the demo's directory in a mount namespace of its own: no other
/// process sees it or writes to it. Unmounted when dropped.
struct PrivateTmpfs(PathBuf);

impl PrivateTmpfs {
    /// Needs root (CAP_SYS_ADMIN). Only this thread moves to the new mount namespace;
    /// the mount dies with it even if the unmount below never runs.
    fn mount(dir: &Path) -> Result<Self> {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).context("unshare(CLONE_NEWNS)")?;
        // Keep the mount from propagating back to the parent namespace.
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .context("making mounts private")?;
        mount(
            Some("tmpfs"),
            dir,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("size=128m,mode=0700"),
        )
        .with_context(|| format!("mounting a tmpfs on {}", dir.display()))?;
        Ok(PrivateTmpfs(dir.to_owned()))
    }
}

impl Drop for PrivateTmpfs {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

/// The byte every position of MiB number `i` holds, so each part can be verified.
fn fill_byte(i: u64) -> u8 {
    b'a' + (i % 26) as u8
}

fn mib(bytes: i128) -> String {
    format!("{:+.1} MiB", bytes as f64 / MIB as f64)
}

fn main() {
    demos::run(|d| {
        d.expect("after unlink the file lives on; its space is freed only at close");
        let dir = demos::private_dir()?;
        let path = dir.path().join("zombie");
        let private = if demos::is_root() {
            match PrivateTmpfs::mount(dir.path()) {
                Ok(p) => Some(p),
                Err(e) => {
                    d.detail(format_args!("no private tmpfs: {e:#}"));
                    None
                }
            }
        } else {
            None
        };
        let fs_name = match private {
            Some(_) => "a private tmpfs (own mount namespace, nothing else writes there)",
            None => "the shared filesystem under TMPDIR (others may write there too)",
        };
        let st = statvfs(dir.path()).context("statvfs on the private directory")?;
        if st.blocks() == 0 || st.fragment_size() == 0 {
            return Err(d.skip(format_args!(
                "the filesystem under {} reports no block counts",
                dir.path().display()
            )));
        }

        d.step(format_args!("on {fs_name}"));
        d.step(format_args!(
            "write {SIZE_MIB} MiB to {}, fsync",
            path.display()
        ));
        let mut file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        for i in 0..SIZE_MIB {
            file.write_all(&vec![fill_byte(i); MIB as usize])
                .context("writing the file")?;
        }
        file.sync_all().context("fsync")?;

        if d.breaks("the file is truncated to 0 (as `: > file` does) before the unlink") {
            file.set_len(0).context("ftruncate")?;
        }
        d.step("unlink it while it is still open");
        let before_unlink = free_bytes(dir.path())?;
        std::fs::remove_file(&path).context("unlink")?;
        let after_unlink = free_bytes(dir.path())?;
        let link = fd::proc_link(&file)?;
        let st = nix::sys::stat::fstat(&file).context("fstat")?;
        // st_blocks counts 512-byte units whatever the filesystem's block size.
        let allocated = i128::from(st.st_blocks) * 512;
        let freed_at_unlink = i128::from(after_unlink) - i128::from(before_unlink);
        d.saw(format_args!(
            "path exists: {}, st_nlink = {}, /proc/self/fd -> {link}",
            path.exists(),
            st.st_nlink
        ));
        d.key(format_args!(
            "still allocated to it: {:.1} MiB; free space after unlink: {}",
            allocated as f64 / MIB as f64,
            mib(freed_at_unlink)
        ));
        d.check(
            !path.exists() && st.st_nlink == 0 && link.ends_with(" (deleted)"),
            "the name is gone (st_nlink 0, \"(deleted)\") but the descriptor still works",
        )?;
        let size = i128::from(SIZE_MIB * MIB);
        // On a shared filesystem only the file's own block count is free of noise.
        d.check(
            allocated >= size && (private.is_none() || freed_at_unlink < size / 4),
            "unlink freed nothing: the blocks still belong to the open file",
        )?;

        d.step("read the first and last MiB back, append 16 bytes, read them back");
        let mut first = vec![0u8; MIB as usize];
        file.seek(SeekFrom::Start(0)).context("lseek")?;
        file.read_exact(&mut first)
            .context("reading the first MiB")?;
        let mut last = vec![0u8; MIB as usize];
        file.seek(SeekFrom::Start((SIZE_MIB - 1) * MIB))
            .context("lseek")?;
        file.read_exact(&mut last).context("reading the last MiB")?;
        file.write_all(b"still here, ok!\n").context("appending")?;
        let mut tail = [0u8; 16];
        file.seek(SeekFrom::Start(SIZE_MIB * MIB))
            .context("lseek")?;
        file.read_exact(&mut tail)
            .context("reading the appended bytes")?;
        let len = file.metadata().context("fstat")?.len();
        d.saw(format_args!(
            "read back {:?}…, {:?}…, then {:?}; size now {len} bytes",
            first[0] as char,
            last[0] as char,
            String::from_utf8_lossy(&tail[..10])
        ));
        d.check(
            first.iter().all(|&b| b == fill_byte(0))
                && last.iter().all(|&b| b == fill_byte(SIZE_MIB - 1))
                && &tail == b"still here, ok!\n"
                && len == SIZE_MIB * MIB + 16,
            "the deleted file is still readable and writable",
        )?;

        d.step("close the last descriptor");
        let t0 = Instant::now();
        let before_close = free_bytes(dir.path())?;
        drop(file);
        let after_close = free_bytes(dir.path())?;
        let window = t0.elapsed();
        let freed_at_close = i128::from(after_close) - i128::from(before_close);
        d.key(format_args!(
            "free space after close: {}",
            mib(freed_at_close)
        ));
        d.metric(
            "zombie.freed_at_unlink",
            freed_at_unlink as f64 / MIB as f64,
            "MiB",
        );
        d.metric(
            "zombie.freed_at_close",
            freed_at_close as f64 / MIB as f64,
            "MiB",
        );
        let about_the_file = (size * 3 / 4..=size * 5 / 4).contains(&freed_at_close);
        if !about_the_file && private.is_none() {
            // Was it us, or someone else writing at the same moment? Watch the count
            // for a while with nothing of ours happening.
            let c0 = free_bytes(dir.path())?;
            std::thread::sleep(window.max(Duration::from_millis(20)));
            let drift = i128::from(free_bytes(dir.path())?) - i128::from(c0);
            if drift.abs() >= size / 4 {
                return Err(d.skip(format_args!(
                    "the filesystem under TMPDIR is busy (free space moved {} on its own); run as root for a private tmpfs",
                    mib(drift)
                )));
            }
        }
        d.check(
            about_the_file,
            format_args!("close gave the {SIZE_MIB} MiB back"),
        )?;
        drop(private);
        Ok(())
    })
}
