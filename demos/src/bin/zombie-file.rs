//! Deleting an open file removes only its name: the data stays readable and writable, and the disk space comes back only when the last descriptor is closed.
//!
//! unlink(2): "If the name was the last link to a file but any processes still have
//! the file open, the file will remain in existence until the last file descriptor
//! referring to it is closed."

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::Context;
use demos::{Result, fd};
use nix::sys::statvfs::statvfs;

const MIB: u64 = 1 << 20;
/// Big enough that freeing it stands out from whatever else writes to the filesystem.
const SIZE_MIB: u64 = 64;

/// Free bytes on the filesystem holding `dir`, as statvfs counts them.
fn free_bytes(dir: &Path) -> Result<u64> {
    let st = statvfs(dir).with_context(|| format!("statvfs {}", dir.display()))?;
    Ok(st.blocks_free() * st.fragment_size())
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
        let st = statvfs(dir.path()).context("statvfs on the private directory")?;
        if st.blocks() == 0 || st.fragment_size() == 0 {
            return Err(d.skip(format_args!(
                "the filesystem under {} reports no block counts",
                dir.path().display()
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
        d.saw(format_args!(
            "still allocated to it: {:.1} MiB; free space after unlink: {}",
            allocated as f64 / MIB as f64,
            mib(freed_at_unlink)
        ));
        d.check(
            !path.exists() && st.st_nlink == 0 && link.ends_with(" (deleted)"),
            "the name is gone (st_nlink 0, \"(deleted)\") but the descriptor still works",
        )?;
        let size = i128::from(SIZE_MIB * MIB);
        d.check(
            allocated >= size && freed_at_unlink < size / 4,
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
        let before_close = free_bytes(dir.path())?;
        drop(file);
        let after_close = free_bytes(dir.path())?;
        let freed_at_close = i128::from(after_close) - i128::from(before_close);
        d.saw(format_args!(
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
            freed_at_close >= size * 3 / 4,
            format_args!("close gave the {SIZE_MIB} MiB back"),
        )?;
        Ok(())
    })
}
