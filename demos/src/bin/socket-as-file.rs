//! A socket can be used like a file: a buffered reader and writer over a TCP stream read and write whole lines, like Python's makefile().
//!
//! socket(7): a socket is a descriptor, so read(2) and write(2) work on it; the line
//! structure comes from the buffered layer on top (Rust's `BufReader`/`BufWriter`,
//! Python's `socket.makefile()`), not from the socket, which only moves bytes.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, TcpStream};

use anyhow::Context;
use demos::{Break, Evidence, brk, net};

const BREAKS: &[Break] = &[
    brk(
        "unbuffered",
        "the client's BufWriter has no buffer (capacity 0)",
    ),
    brk(
        "no-shutdown",
        "the client never shuts down its writing side: no EOF for the server",
    ),
    brk(
        "shutdown-first",
        "the client shuts down its writing side before it flushes its buffer",
    ),
    brk(
        "server-reads-small",
        "the server's BufReader holds 16 bytes, less than a line",
    ),
    brk(
        "client-reads-small",
        "the client's BufReader holds 16 bytes, less than a line",
    ),
];

/// The BufReader capacity under the `*-reads-small` breaks.
const SMALL_READS: usize = 16;

const LINES: usize = 1000;

/// Counts the read and write calls that reach the socket under a buffered layer.
struct Counted<'a> {
    stream: &'a TcpStream,
    calls: usize,
}

impl<'a> Counted<'a> {
    fn new(stream: &'a TcpStream) -> Self {
        Counted { stream, calls: 0 }
    }
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        self.stream.read(buf)
    }
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.calls += 1;
        self.stream.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

/// What the server did: lines in, and the socket calls beneath them.
struct Served {
    lines: usize,
    reads: usize,
    writes: usize,
}

/// A line-oriented server written as if the socket were a file: read lines until EOF,
/// answer each one in upper case.
fn serve(stream: &TcpStream, capacity: usize) -> std::io::Result<Served> {
    let mut input = BufReader::with_capacity(capacity, Counted::new(stream));
    let mut output = BufWriter::new(Counted::new(stream));
    let mut lines = 0;
    for line in input.by_ref().lines() {
        writeln!(output, "{}", line?.to_uppercase())?;
        lines += 1;
    }
    output.flush()?;
    let writes = output.get_ref().calls;
    stream.shutdown(Shutdown::Write)?;
    Ok(Served {
        lines,
        reads: input.get_ref().calls,
        writes,
    })
}

impl Evidence for Served {
    fn render(&self) -> String {
        format!("{} lines, then EOF", self.lines)
    }
}

/// Lines read back: how many, the first and the last.
struct Lines(Vec<String>);

impl Evidence for Lines {
    fn render(&self) -> String {
        format!(
            "{} lines, first {:?}, last {:?}",
            self.0.len(),
            self.0.first().map(String::as_str).unwrap_or_default(),
            self.0.last().map(String::as_str).unwrap_or_default()
        )
    }
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("BufReader::lines() and writeln! work on a socket as on a file");
        let (client, server) = net::tcp_pair()?;

        d.step(format_args!(
            "client: BufWriter over the socket, writeln! {LINES} lines, flush, shutdown(SHUT_WR)"
        ));
        let capacity = if d.breaks("unbuffered") { 0 } else { 8 << 10 };
        let mut output = BufWriter::with_capacity(capacity, Counted::new(&client));
        for i in 0..LINES {
            writeln!(output, "line {i} of {LINES}").context("client: writeln")?;
        }
        let early = d.breaks("shutdown-first");
        if early {
            client
                .shutdown(Shutdown::Write)
                .context("client: shutdown")?;
        }
        let flushed = d.syscall("client: flush (write)", || output.flush());
        if !flushed.is_ok() {
            d.saw(&flushed);
        }
        let client_writes = output.get_ref().calls;
        // The buffer is dropped whatever happened: what it still held is lost.
        let _unflushed = output.into_parts();
        if !early && !d.breaks("no-shutdown") {
            client
                .shutdown(Shutdown::Write)
                .context("client: shutdown")?;
        }
        // How many calls reached the socket follows from the buffer's size: the
        // demo's count, not the kernel's word.
        d.key_derived(format_args!(
            "{LINES} lines became {client_writes} write() call(s) on the socket"
        ));

        d.step("server: for line in BufReader::lines() { writeln!(upper case) }");
        // The client's lines are all queued in the socket already, so the server can
        // run to EOF right here; the answers wait in the other direction's queue.
        let server_buffer = if d.breaks("server-reads-small") {
            SMALL_READS
        } else {
            8 << 10
        };
        let served = d.syscall("server: read lines until EOF, answer each", || {
            serve(&server, server_buffer)
        });
        d.saw(&served);
        let served = d
            .require(served, "the server read every line, to EOF")?
            .into_value();
        d.derived(format_args!(
            "server: {} read() calls, {} write() calls",
            served.reads, served.writes
        ));

        d.step("client: BufReader::lines() on the answers");
        let client_buffer = if d.breaks("client-reads-small") {
            SMALL_READS
        } else {
            8 << 10
        };
        let mut input = BufReader::with_capacity(client_buffer, Counted::new(&client));
        let answers = d.syscall("client: read lines until EOF", || {
            input
                .by_ref()
                .lines()
                .collect::<std::io::Result<Vec<String>>>()
                .map(Lines)
        });
        d.key(&answers);
        let answers = d.require(answers, "the answers came back")?.into_value().0;
        let client_reads = input.get_ref().calls;
        d.derived(format_args!("from {client_reads} read() calls"));
        let expected: Vec<String> = (0..LINES).map(|i| format!("LINE {i} OF {LINES}")).collect();
        d.check(
            served.lines == LINES && answers == expected,
            "every line arrived whole and in order, both ways",
        )?;
        d.check(
            client_writes < LINES / 10 && served.reads < LINES / 10 && client_reads < LINES / 10,
            "the buffered layer found the lines; the socket moved a few big chunks (under 100 calls each way)",
        )?;
        d.metric("makefile.lines", LINES as f64, "lines");
        d.metric("makefile.client_writes", client_writes as f64, "calls");
        d.metric("makefile.server_reads", served.reads as f64, "calls");
        Ok(())
    })
}
