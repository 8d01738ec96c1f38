//! Deleting an open file removes only its name: the data stays readable and writable, and its space comes back only when the last descriptor is closed.
//!
//! unlink(2): "If the name was the last link to a file but any processes still have
//! the file open, the file will remain in existence until the last file descriptor
//! referring to it is closed."
//!
//! Free space is a count for the whole filesystem, which other programs change too, so
//! the demo measures a tmpfs of its own, mounted in a mount namespace of its own where
//! nothing else writes: as root directly, as another user in a forked child that
//! first enters a user namespace of its own (and skips if the kernel allows none).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use demos::{Break, Demo, Evidence, Observed, Result, brk, fd};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::statvfs::statvfs;

const BREAKS: &[Break] = &[
    brk(
        "truncate",
        "the file is truncated to 0 (as `: > file` does) before the unlink",
    ),
    brk(
        "dup-kept",
        "a dup of the descriptor stays open after the \"last\" close",
    ),
    brk(
        "hard-link",
        "a second name (a hard link) is made before the unlink",
    ),
];

const MIB: u64 = 1 << 20;
/// Big enough that freeing it stands out from whatever else writes to the filesystem.
const SIZE_MIB: u64 = 64;

/// Free bytes on the filesystem holding `dir`, as statvfs counts them.
fn free_bytes(dir: &Path) -> Result<Observed<u64>> {
    demos::evidence::read("statvfs f_bfree × f_frsize", || {
        let st = statvfs(dir).with_context(|| format!("statvfs {}", dir.display()))?;
        Ok(st.blocks_free() * st.fragment_size())
    })
}

/// What fstat says of the open, unlinked file.
struct Stat {
    nlink: u64,
    blocks: i64,
    size: i64,
}

impl Evidence for Stat {
    fn render(&self) -> String {
        format!(
            "st_nlink {}, st_blocks {} ({:.1} MiB), st_size {}",
            self.nlink,
            self.blocks,
            (self.blocks * 512) as f64 / MIB as f64,
            self.size
        )
    }
}

/// In a forked child (single-threaded): a user namespace of its own, in which it is
/// root, and a mount namespace it owns, with a tmpfs on `dir`.
fn user_tmpfs(dir: &Path) -> Result<()> {
    use nix::sched::CloneFlags;
    let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
    nix::sched::unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)
        .context("unshare(CLONE_NEWUSER | CLONE_NEWNS)")?;
    std::fs::write("/proc/self/setgroups", "deny").context("setgroups deny")?;
    std::fs::write("/proc/self/uid_map", format!("0 {uid} 1")).context("uid_map")?;
    std::fs::write("/proc/self/gid_map", format!("0 {gid} 1")).context("gid_map")?;
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("size=128m,mode=0700"),
    )
    .with_context(|| format!("mounting a tmpfs on {}", dir.display()))?;
    Ok(())
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
    demos::run(BREAKS, |d| {
        d.expect("after unlink the file lives on; its space is freed only at close");
        let dir = demos::private_dir()?;
        if demos::is_root() {
            let private = PrivateTmpfs::mount(dir.path())?;
            d.step("on a private tmpfs (own mount namespace, nothing else writes there)");
            let result = experiment(d, dir.path());
            drop(private);
            result
        } else {
            let path = dir.path().to_owned();
            d.in_child(move |d| {
                if let Err(e) = user_tmpfs(&path) {
                    return Err(d.skip(format_args!(
                        "no user namespace for a private tmpfs ({e:#}); run as root"
                    )));
                }
                d.step(
                    "on a private tmpfs (own user and mount namespace, nothing else writes there)",
                );
                experiment(d, &path)
            })
        }
    })
}

fn experiment(d: &mut Demo, dir: &Path) -> Result<()> {
    let path = dir.join("zombie");
    let st = statvfs(dir).context("statvfs on the private directory")?;
    if st.blocks() == 0 || st.fragment_size() == 0 {
        return Err(d.skip(format_args!(
            "the filesystem under {} reports no block counts",
            dir.display()
        )));
    }

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

    if d.breaks("truncate") {
        file.set_len(0).context("ftruncate")?;
    }
    d.step("unlink it while it is still open");
    if d.breaks("hard-link") {
        std::fs::hard_link(&path, dir.join("second-name")).context("link")?;
    }
    let before_unlink = free_bytes(dir)?;
    std::fs::remove_file(&path).context("unlink")?;
    let after_unlink = free_bytes(dir)?;
    let link = fd::proc_link(&file)?;
    let exists = d.syscall("stat(path)", || std::fs::metadata(&path).map(|m| m.len()));
    let st = demos::evidence::read("fstat", || {
        let st = nix::sys::stat::fstat(&file).context("fstat")?;
        Ok(Stat {
            nlink: st.st_nlink,
            blocks: st.st_blocks,
            size: st.st_size,
        })
    })?;
    // st_blocks counts 512-byte units whatever the filesystem's block size.
    let allocated = i128::from(st.value().blocks) * 512;
    let freed_at_unlink = i128::from(*after_unlink.value()) - i128::from(*before_unlink.value());
    d.saw(&exists);
    d.saw(&link);
    d.key(&st);
    d.key_derived(format_args!(
        "free space after unlink: {}",
        mib(freed_at_unlink)
    ));
    d.check(
        exists.failed_with(nix::errno::Errno::ENOENT)
            && st.value().nlink == 0
            && link.value().ends_with(" (deleted)"),
        "the name is gone (ENOENT, st_nlink 0, \"(deleted)\") but the descriptor still works",
    )?;
    let size = i128::from(SIZE_MIB * MIB);
    d.check(
        allocated >= size && freed_at_unlink < size / 4,
        "unlink freed nothing: all 64 MiB still belong to the open file",
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
    let back = demos::evidence::read(
        "read of the first MiB, the last MiB, the appended bytes",
        || Ok(demos::Bytes([&first[..1], &last[..1], &tail[..]].concat())),
    )?;
    d.saw(&back);
    d.check(
        first.iter().all(|&b| b == fill_byte(0))
            && last.iter().all(|&b| b == fill_byte(SIZE_MIB - 1))
            && &tail == b"still here, ok!\n"
            && len == SIZE_MIB * MIB + 16,
        "the deleted file is still readable and writable",
    )?;

    d.step("close the last descriptor");
    let _kept = if d.breaks("dup-kept") {
        Some(file.try_clone().context("dup")?)
    } else {
        None
    };
    let before_close = free_bytes(dir)?;
    drop(file);
    let after_close = free_bytes(dir)?;
    let freed_at_close = i128::from(*after_close.value()) - i128::from(*before_close.value());
    d.saw_that(
        &after_close.since(&before_close),
        "free bytes, across the close",
    );
    d.key_derived(format_args!(
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
    d.check(
        about_the_file,
        format_args!("close gave the {SIZE_MIB} MiB back (within a quarter)"),
    )?;
    Ok(())
}
