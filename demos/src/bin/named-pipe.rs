//! A named pipe lets a program that only takes a path read a stream: opening it blocks until both ends exist, and the bytes never touch the disk.
//!
//! fifo(7): "Normally, opening the FIFO blocks until the other end is opened also."
//! "A process can open a FIFO in nonblocking mode. [...] opening for write-only fails
//! with ENXIO (no such device or address) unless the other end has already been
//! opened." "the kernel passes all data internally without writing it to the filesystem."

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::{IO_TIMEOUT, Result, fd, human, net, peer};
use flate2::Crc;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use nix::sys::stat::Mode;

/// How long the writer waits before it opens its end.
const WRITER_DELAY: Duration = Duration::from_millis(250);
const ROWS: usize = 20_000;

/// What a bulk loader saw: like MySQL's `LOAD DATA INFILE`, it knows only a path.
struct Loaded {
    open_took: Duration,
    rows: usize,
    bytes: usize,
    crc: u32,
}

/// Opens `path`, reads it to the end line by line, counts and checksums it. It never
/// asks what kind of file it got; it only refuses to wait more than [`IO_TIMEOUT`]
/// for each next piece.
fn load_data_infile(path: &Path) -> Result<Loaded> {
    let t0 = Instant::now();
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let open_took = t0.elapsed();
    let mut reader = BufReader::new(&file);
    let (mut rows, mut bytes, mut crc) = (0, 0, Crc::new());
    let mut line = Vec::new();
    loop {
        if reader.buffer().is_empty() && !fd::readable_within(&file, IO_TIMEOUT)? {
            bail!("no data in {} for {IO_TIMEOUT:?}", path.display());
        }
        line.clear();
        let n = reader.read_until(b'\n', &mut line).context("reading")?;
        if n == 0 {
            break;
        }
        rows += 1;
        bytes += n;
        crc.update(&line);
    }
    Ok(Loaded {
        open_took,
        rows,
        bytes,
        crc: crc.sum(),
    })
}

/// The table a database might load: one CSV row per line.
fn table() -> Vec<u8> {
    (0..ROWS)
        .map(|i| format!("{i},user{i:05},{}\n", (i * 7919) % 1000))
        .collect::<String>()
        .into_bytes()
}

/// What `gzip --stdout -d file.gz > fifo` does, in the forked writer.
fn gunzip_into(blob: &[u8], fifo: &Path) -> Result<u64> {
    let mut out = OpenOptions::new()
        .write(true)
        .open(fifo)
        .context("opening the fifo for writing")?;
    let copied =
        std::io::copy(&mut GzDecoder::new(blob), &mut out).context("gunzip into the fifo")?;
    out.flush().context("flush")?;
    Ok(copied)
}

fn main() {
    demos::run(|d| {
        d.expect("a blocked open, then a gzip stream read through a path, nothing stored");
        let dir = demos::private_dir()?;
        let fifo = dir.path().join("namedPipe");
        if d.breaks("the path is a regular file, not a fifo") {
            File::create(&fifo).context("creating a regular file")?;
        } else {
            nix::unistd::mkfifo(&fifo, Mode::S_IRUSR | Mode::S_IWUSR).context("mkfifo")?;
        }

        d.step("mkfifo, then open it for writing with O_NONBLOCK while nobody reads");
        let early = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        match early {
            Ok(_) => d.check(false, "a write-only open with no reader fails")?,
            Err(e) => {
                d.key(format_args!(
                    "open(O_WRONLY|O_NONBLOCK) failed: {}",
                    net::errno_name(&e)
                ));
                d.check(
                    net::is_errno(&e, nix::errno::Errno::ENXIO),
                    "no reader yet, so no writer may open (ENXIO)",
                )?;
            }
        }

        let original = table();
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&original).context("gzip")?;
        let blob = gz.finish().context("gzip")?;
        let mut want = Crc::new();
        want.update(&original);

        d.step(format_args!(
            "fork a writer that waits {} then gunzips {} KB into the fifo; read it by path",
            human(WRITER_DELAY),
            blob.len() / 1000
        ));
        let writer = peer::fork(|| {
            std::thread::sleep(WRITER_DELAY);
            match gunzip_into(&blob, &fifo) {
                Ok(_) => 0,
                Err(e) => {
                    eprintln!("writer: {e:#}");
                    demos::exit::ERROR
                }
            }
        })?;
        // If the writer never opens its end, open one here so the reader's open returns.
        let (opened, wait_for_open) = mpsc::channel::<()>();
        let rescue_path = fifo.clone();
        let rescue = std::thread::spawn(move || {
            if wait_for_open.recv_timeout(IO_TIMEOUT) == Err(mpsc::RecvTimeoutError::Timeout) {
                let _unblock = OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&rescue_path);
            }
        });
        let loaded = load_data_infile(&fifo);
        drop(opened);
        let _ = rescue.join();
        let loaded = loaded?;
        let status = writer.wait(IO_TIMEOUT)?;
        d.key(format_args!(
            "the reader's open returned after {}, once the writer opened",
            human(loaded.open_took)
        ));
        d.check(
            loaded.open_took >= WRITER_DELAY * 2 / 5,
            "open for reading blocked until a writer existed",
        )?;
        d.saw(format_args!(
            "read {} rows, {} bytes, crc32 {:08x}; writer exit {status:?}",
            loaded.rows, loaded.bytes, loaded.crc
        ));
        d.check(
            loaded.rows == ROWS
                && loaded.bytes == original.len()
                && loaded.crc == want.sum()
                && status == peer::Exit::Code(0),
            format_args!(
                "every byte arrived intact ({} rows, crc32 {:08x})",
                ROWS,
                want.sum()
            ),
        )?;
        // A regular file would hand the rows out again; a fifo passed them on.
        let again = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .and_then(|mut f| std::io::copy(&mut f, &mut std::io::sink()))
            .context("reading the path a second time")?;
        let meta = std::fs::metadata(&fifo).context("stat the fifo")?;
        d.key(format_args!(
            "opened and read again: {again} bytes (st_size {}, a fifo: {})",
            meta.len(),
            meta.file_type().is_fifo()
        ));
        d.check(
            again == 0,
            "nothing was stored: read again, the path gives nothing back",
        )?;
        d.metric(
            "fifo.open_blocked",
            loaded.open_took.as_secs_f64() * 1e3,
            "ms",
        );
        d.metric("fifo.bytes", loaded.bytes as f64, "bytes");
        d.metric("fifo.gzip_bytes", blob.len() as f64, "bytes");
        Ok(())
    })
}
