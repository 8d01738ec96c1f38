//! Deleting an open file removes only its name: the data stays readable and writable, and its space comes back only when the last descriptor is closed.
//!
//! unlink(2): "If the name was the last link to a file but any processes still have
//! the file open, the file will remain in existence until the last file descriptor
//! referring to it is closed."
//!
//! Free space is a count for the whole filesystem, which other programs change too, so
//! the demo measures a tmpfs of its own, mounted in a mount namespace of its own where
//! nothing else writes, in a forked child that first enters a user namespace of its own
//! (as root too; it skips if the kernel allows none). Nothing to unmount: the mount
//! ends with the child.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::Context;
use demos::{Break, Demo, Evidence, Observed, Result, brk, fd};
use nix::mount::{MsFlags, mount};
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
    brk(
        "data-freed",
        "after unlink the file's data is freed, its length kept (ftruncate to 0, then back)",
    ),
];

const MIB: u64 = 1 << 20;
/// Big enough that freeing it stands out from whatever else writes to the filesystem.
const SIZE_MIB: u64 = 64;
/// The size of the demo's own tmpfs.
const TMPFS_BYTES: u64 = 128 * MIB;

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

/// In the forked child (single-threaded): a user namespace of its own, in which it is
/// root (also when it was root before), and a mount namespace it owns, with a tmpfs on
/// `dir` that no other process sees (the copied mounts are slaves: nothing propagates
/// back). Both end with the child, mount and all.
fn private_tmpfs(dir: &Path) -> Result<()> {
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
        Some(format!("size={TMPFS_BYTES},mode=0700").as_str()),
    )
    .with_context(|| format!("mounting a tmpfs on {}", dir.display()))?;
    Ok(())
}

/// What statfs says of the filesystem under the demo's directory.
#[derive(PartialEq)]
struct Fs {
    tmpfs: bool,
    size: u64,
    free: u64,
}

impl Evidence for Fs {
    fn render(&self) -> String {
        let kind = if self.tmpfs { "tmpfs" } else { "not a tmpfs" };
        format!(
            "{kind}, {} MiB, {} MiB free",
            self.size / MIB,
            self.free / MIB
        )
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
        let path = dir.path().to_owned();
        d.in_child(move |d| {
            if let Err(e) = private_tmpfs(&path) {
                return Err(d.skip(format_args!(
                    "no user namespace for a private tmpfs ({e:#})"
                )));
            }
            experiment(d, &path)
        })
    })
}

/// What the open, unlinked file gave back: for each MiB, the one byte it holds
/// throughout (None if it holds more than one); the 16 bytes appended to it, read back;
/// its length after the append.
#[derive(PartialEq)]
struct ReadBack {
    mibs: Vec<Option<u8>>,
    tail: Vec<u8>,
    len: u64,
}

impl Evidence for ReadBack {
    fn render(&self) -> String {
        let byte = |m: Option<&Option<u8>>| match m {
            Some(Some(b)) => format!("{:?}", *b as char),
            _ => "mixed".into(),
        };
        format!(
            "{} MiB, each one byte throughout: {} … {}; then {:?}; st_size {}",
            self.mibs.len(),
            byte(self.mibs.first()),
            byte(self.mibs.last()),
            String::from_utf8_lossy(&self.tail),
            self.len
        )
    }
}

const APPENDED: &[u8; 16] = b"still here, ok!\n";

/// Reads all `size` bytes of `file` MiB by MiB, appends [`APPENDED`] and reads it back.
fn read_back(file: &mut File, size: u64) -> std::io::Result<ReadBack> {
    let mut buf = vec![0u8; MIB as usize];
    let mut mibs = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    for _ in 0..size / MIB {
        file.read_exact(&mut buf)?;
        mibs.push(buf.iter().all(|&b| b == buf[0]).then_some(buf[0]));
    }
    file.write_all(APPENDED)?;
    let mut tail = vec![0u8; APPENDED.len()];
    file.seek(SeekFrom::Start(size))?;
    file.read_exact(&mut tail)?;
    let len = file.metadata()?.len();
    Ok(ReadBack { mibs, tail, len })
}

/// fstat of the open file: its link count, its size and the space it holds.
fn fstat(file: &File) -> Result<Observed<Stat>> {
    demos::evidence::read("fstat", || {
        let st = nix::sys::stat::fstat(file).context("fstat")?;
        Ok(Stat {
            nlink: st.st_nlink,
            blocks: st.st_blocks,
            size: st.st_size,
        })
    })
}

fn experiment(d: &mut Demo, dir: &Path) -> Result<()> {
    let fs = demos::evidence::read("statfs", || {
        let st =
            nix::sys::statfs::statfs(dir).with_context(|| format!("statfs {}", dir.display()))?;
        let unit = st.block_size() as u64;
        Ok(Fs {
            tmpfs: st.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC,
            size: st.blocks() * unit,
            free: st.blocks_free() * unit,
        })
    })?;
    d.saw(&fs);
    let fresh = Fs {
        tmpfs: true,
        size: TMPFS_BYTES,
        free: TMPFS_BYTES,
    };
    d.check(
        *fs.value() == fresh,
        "a new, empty tmpfs to measure on (128 MiB, all of it free)",
    )?;
    let path = dir.join("zombie");
    let size = SIZE_MIB * MIB;
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
    let st = fstat(&file)?;
    // st_blocks counts 512-byte units whatever the filesystem's block size.
    let allocated = i128::from(st.value().blocks) * 512;
    let freed_at_unlink = i128::from(*after_unlink.value()) - i128::from(*before_unlink.value());
    d.saw(&exists);
    d.saw(&link);
    d.key(&st);
    d.derived(format_args!(
        "free space after unlink: {}",
        mib(freed_at_unlink)
    ));
    d.check(
        exists.failed_with(nix::errno::Errno::ENOENT)
            && st.value().nlink == 0
            && link.value().ends_with(" (deleted)"),
        "the name is gone (ENOENT, st_nlink 0, \"(deleted)\") but the descriptor still works",
    )?;
    // Nothing else writes to this tmpfs, so "nothing" is exact.
    d.check(
        allocated == i128::from(size) && freed_at_unlink == 0,
        "unlink freed nothing (not a byte): all 64 MiB (st_blocks) still belong to the open file",
    )?;

    if d.breaks("data-freed") {
        file.set_len(0).context("ftruncate")?;
        file.set_len(size).context("ftruncate")?;
    }
    d.step("read all 64 MiB back, append 16 bytes, read them back");
    let back = d.syscall("read, write, fstat of the deleted file", || {
        read_back(&mut file, size)
    });
    d.saw(&back);
    let back = d.require(back, "the deleted file is still readable and writable")?;
    // Each MiB holds its own byte, none of them 0 (what freed space reads as).
    let written = ReadBack {
        mibs: (0..SIZE_MIB).map(|i| Some(fill_byte(i))).collect(),
        tail: APPENDED.to_vec(),
        len: size + 16,
    };
    d.check(
        *back.value() == written,
        "the deleted file is still readable and writable: every byte read back as written",
    )?;

    d.step("close the last descriptor");
    let _kept = if d.breaks("dup-kept") {
        Some(file.try_clone().context("dup")?)
    } else {
        None
    };
    let held = fstat(&file)?;
    let before_close = free_bytes(dir)?;
    drop(file);
    let after_close = free_bytes(dir)?;
    let freed_at_close = i128::from(*after_close.value()) - i128::from(*before_close.value());
    d.saw(&held);
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
    d.check(
        freed_at_close == i128::from(held.value().blocks) * 512,
        "close gave back all the file's space (its st_blocks, to the byte)",
    )?;
    Ok(())
}
