//! A named pipe lets a program that only takes a path read a stream: opening it blocks until both ends exist, and the path keeps none of the bytes.
//!
//! fifo(7): "Normally, opening the FIFO blocks until the other end is opened also."
//! "A process can open a FIFO in nonblocking mode. [...] opening for write-only fails
//! with ENXIO (no such device or address) unless the other end has already been
//! opened." "the kernel passes all data internally without writing it to the filesystem."

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::{Break, Evidence, IO_TIMEOUT, Result, brk, fd, human, peer};
use flate2::Crc;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use nix::sys::stat::Mode;

const BREAKS: &[Break] = &[
    brk("regular-file", "the path is a regular file, not a fifo"),
    brk(
        "reader-nonblocking",
        "the reader opens the path with O_NONBLOCK",
    ),
    brk(
        "short-stream",
        "the writer stops after half the compressed stream",
    ),
    brk(
        "writer-fails",
        "the writer fails before it opens its end (as gzip does with a missing input)",
    ),
];

/// How long the writer waits before it opens its end.
const WRITER_DELAY: Duration = Duration::from_millis(250);
const ROWS: usize = 20_000;

/// What a bulk loader saw: like MySQL's `LOAD DATA INFILE`, it knows only a path.
struct Loaded {
    open_took: Duration,
    /// The read() calls on the path and the bytes they returned in all (the kernel's
    /// answers); the last returned 0, EOF.
    reads: usize,
    bytes: usize,
    /// The loader's own count of lines, and their CRC-32 (flate2's).
    rows: usize,
    crc: u32,
}

/// Keeps what each read() on the path returned, one byte count per call.
struct Reads<'a> {
    file: &'a File,
    returns: Vec<usize>,
}

impl Read for Reads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (&mut &*self.file).read(buf)?;
        self.returns.push(n);
        Ok(n)
    }
}

/// Opens `path`, reads it to the end line by line, counts and checksums it. It never
/// asks what kind of file it got; it only refuses to wait more than [`IO_TIMEOUT`]
/// for each next piece.
fn load_data_infile(path: &Path, flags: i32) -> Result<Loaded> {
    let t0 = Instant::now();
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let open_took = t0.elapsed();
    let mut reader = BufReader::new(Reads {
        file: &file,
        returns: Vec::new(),
    });
    let (mut rows, mut crc) = (0, Crc::new());
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
        crc.update(&line);
    }
    let reads = reader.get_ref();
    Ok(Loaded {
        open_took,
        reads: reads.returns.len(),
        bytes: reads.returns.iter().sum(),
        rows,
        crc: crc.sum(),
    })
}

impl Evidence for Loaded {
    fn render(&self) -> String {
        format!(
            "{} read() call(s) returned {} bytes in all, the last 0 (EOF)",
            self.reads, self.bytes
        )
    }
}

impl Evidence for Stat {
    fn render(&self) -> String {
        format!("st_size {}, a fifo: {}", self.0, self.1)
    }
}

/// What `stat` says of the path: its size, and whether it is a fifo.
struct Stat(u64, bool);

/// The table a database might load: one CSV row per line.
fn table() -> Vec<u8> {
    (0..ROWS)
        .map(|i| format!("{i},user{i:05},{}\n", (i * 7919) % 1000))
        .collect::<String>()
        .into_bytes()
}

/// What `gzip --stdout -d file.gz > fifo` does, in the forked writer.
fn gunzip_into(blob: &[u8], fifo: &Path, short: bool) -> Result<u64> {
    let blob = if short { &blob[..blob.len() / 2] } else { blob };
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
    demos::run(BREAKS, |d| {
        d.expect("a blocked open, then a gzip stream read through a path, nothing stored");
        let dir = demos::private_dir()?;
        let fifo = dir.path().join("namedPipe");
        if d.breaks("regular-file") {
            File::create(&fifo).context("creating a regular file")?;
        } else {
            nix::unistd::mkfifo(&fifo, Mode::S_IRUSR | Mode::S_IWUSR).context("mkfifo")?;
        }

        d.step("mkfifo, then open it for writing with O_NONBLOCK while nobody reads");
        let early = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        let early = demos::evidence::call("open(O_WRONLY|O_NONBLOCK)", || early.map(|_| 0u8));
        d.key(&early);
        d.check(
            early.failed_with(nix::errno::Errno::ENXIO),
            "no reader yet, so no writer may open (ENXIO)",
        )?;

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
        let short = d.breaks("short-stream");
        let fails = d.breaks("writer-fails");
        let writer = peer::fork(|| {
            std::thread::sleep(WRITER_DELAY);
            if fails {
                return demos::exit::ERROR;
            }
            match gunzip_into(&blob, &fifo, short) {
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
        let flags = if d.breaks("reader-nonblocking") {
            libc::O_NONBLOCK
        } else {
            0
        };
        let loaded = demos::evidence::call("open and read the path to EOF", || {
            load_data_infile(&fifo, flags).map_err(|e| std::io::Error::other(format!("{e:#}")))
        });
        drop(opened);
        let _ = rescue.join();
        let status = writer.wait(IO_TIMEOUT)?;
        let took = loaded
            .value()
            .as_ref()
            .map_or(Duration::ZERO, |l| l.open_took);
        d.key_derived(format_args!(
            "the reader's open returned after {}",
            human(took)
        ));
        d.check(
            took >= WRITER_DELAY * 2 / 5,
            "open for reading blocked until a writer existed",
        )?;
        d.saw(&loaded);
        d.derived(format_args!("the writer exited: {status:?}"));
        let loaded = d
            .require(loaded, "the reader read the path to its end")?
            .into_value();
        d.derived(format_args!(
            "the loader counted {} rows; their crc32 (flate2) is {:08x}",
            loaded.rows, loaded.crc
        ));
        // The loader's count of rows and bytes, its CRC-32, and the writer's exit: all as
        // the table and a gunzip that finished would give.
        let got = (loaded.rows, loaded.bytes, loaded.crc, status);
        d.check(
            got == (ROWS, original.len(), want.sum(), peer::Exit::Code(0)),
            format_args!(
                "every byte arrived intact ({} rows, crc32 {:08x})",
                ROWS,
                want.sum()
            ),
        )?;
        // A regular file would hand the rows out again; a fifo passed them on.
        let again = d.syscall("open(O_NONBLOCK) and read again", || {
            OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo)
                .and_then(|mut f| std::io::copy(&mut f, &mut std::io::sink()))
        });
        let meta = d.syscall("stat", || {
            std::fs::metadata(&fifo).map(|m| Stat(m.len(), m.file_type().is_fifo()))
        });
        d.saw(&meta);
        d.saw(&again);
        // A fifo's st_size is 0 whatever it holds, so the size is shown, not checked:
        // what shows that nothing was stored is the second read.
        d.check(
            matches!(again.value(), Ok(0)),
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
