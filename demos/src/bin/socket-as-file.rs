//! A socket can be used like a file: a buffered reader and writer over a TCP stream read and write whole lines, like Python's makefile().
//!
//! socket(7): a socket is a descriptor, so read(2) and write(2) work on it; the line
//! structure comes from the buffered layer on top (Rust's `BufReader`/`BufWriter`,
//! Python's `socket.makefile()`), not from the socket, which only moves bytes.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, TcpStream};

use anyhow::Context;
use demos::{Break, Evidence, Observed, brk, net};

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
    brk(
        "server-unbuffered",
        "the server's BufWriter has no buffer (capacity 0)",
    ),
];

/// The BufReader capacity under the `*-reads-small` breaks.
const SMALL_READS: usize = 16;

const LINES: usize = 1000;

/// Keeps what each read or write call that reaches the socket under a buffered layer
/// returned: the kernel's byte counts, one per call.
struct Counted<'a> {
    stream: &'a TcpStream,
    returns: Vec<usize>,
}

impl<'a> Counted<'a> {
    fn new(stream: &'a TcpStream) -> Self {
        Counted {
            stream,
            returns: Vec::new(),
        }
    }
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.returns.push(n);
        Ok(n)
    }
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.stream.write(buf)?;
        self.returns.push(n);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

/// What the server did: lines in (BufReader's count), and what each read() and write()
/// beneath them returned.
struct Served {
    lines: usize,
    reads: Vec<usize>,
    writes: Vec<usize>,
}

/// A line-oriented server written as if the socket were a file: read lines until EOF,
/// answer each one in upper case.
fn serve(stream: &TcpStream, reads: usize, writes: usize) -> std::io::Result<Served> {
    let mut input = BufReader::with_capacity(reads, Counted::new(stream));
    let mut output = BufWriter::with_capacity(writes, Counted::new(stream));
    let mut lines = 0;
    for line in input.by_ref().lines() {
        writeln!(output, "{}", line?.to_uppercase())?;
        lines += 1;
    }
    output.flush()?;
    let writes = std::mem::take(&mut output.get_mut().returns);
    stream.shutdown(Shutdown::Write)?;
    Ok(Served {
        lines,
        reads: std::mem::take(&mut input.get_mut().returns),
        writes,
    })
}

/// The byte counts read() or write() returned, one per call, in order (a read's 0 is
/// EOF); a long list shows its ends.
struct Returns(Vec<usize>);

impl Evidence for Returns {
    fn render(&self) -> String {
        let show = |n: &usize| {
            if *n == 0 {
                "0 (EOF)".to_owned()
            } else {
                n.to_string()
            }
        };
        let all = &self.0;
        let listed = if all.len() <= 6 {
            all.iter().map(show).collect::<Vec<_>>().join(", ")
        } else {
            let head = all[..3].iter().map(show).collect::<Vec<_>>().join(", ");
            let tail = all[all.len() - 2..]
                .iter()
                .map(show)
                .collect::<Vec<_>>()
                .join(", ");
            format!("{head}, … {tail}")
        };
        let total: usize = all.iter().sum();
        format!("{listed}  [{} calls, {total} bytes]", all.len())
    }
}

/// What read() or write() returned on the socket, call by call: each number is a
/// syscall's own result, kept as it came back.
fn returned(source: &str, returns: Vec<usize>) -> demos::Result<Observed<Returns>> {
    demos::evidence::read(source, || Ok(Returns(returns)))
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
        let client_writes = std::mem::take(&mut output.get_mut().returns);
        // The buffer is dropped whatever happened: what it still held is lost.
        let _unflushed = output.into_parts();
        if !early && !d.breaks("no-shutdown") {
            client
                .shutdown(Shutdown::Write)
                .context("client: shutdown")?;
        }
        let client_writes = returned("client: write() returned", client_writes)?;
        d.saw(&client_writes);
        let client_writes = client_writes.into_value().0.len();
        d.key_derived(format_args!(
            "{LINES} lines became {client_writes} write() call(s) on the socket"
        ));

        d.step("server: for line in BufReader::lines() { writeln!(upper case) }");
        // The client's lines are all queued in the socket already, so the server can
        // run to EOF right here; the answers wait in the other direction's queue.
        let server_reads = if d.breaks("server-reads-small") {
            SMALL_READS
        } else {
            8 << 10
        };
        let server_writes = if d.breaks("server-unbuffered") {
            0
        } else {
            8 << 10
        };
        let served = d.syscall("server: read and write the socket", || {
            serve(&server, server_reads, server_writes)
        });
        let served = d
            .require(served, "the server read every line, to EOF")?
            .into_value();
        let reads = returned("server: read() returned", served.reads)?;
        d.saw(&reads);
        d.said_by(
            "std BufReader::lines",
            format_args!("{} lines, then EOF", served.lines),
        );
        let writes = returned("server: write() returned", served.writes)?;
        d.saw(&writes);
        let (server_reads, server_writes) = (reads.value().0.len(), writes.value().0.len());

        d.step("client: BufReader::lines() on the answers");
        let client_buffer = if d.breaks("client-reads-small") {
            SMALL_READS
        } else {
            8 << 10
        };
        let mut input = BufReader::with_capacity(client_buffer, Counted::new(&client));
        let answers = d.syscall("client: read the socket", || {
            input
                .by_ref()
                .lines()
                .collect::<std::io::Result<Vec<String>>>()
        });
        let answers = d.require(answers, "the answers came back")?.into_value();
        let client_reads = returned(
            "client: read() returned",
            std::mem::take(&mut input.get_mut().returns),
        )?;
        d.key(&client_reads);
        let client_reads = client_reads.value().0.len();
        d.key_said_by(
            "std BufReader::lines",
            format_args!(
                "{} lines, first {:?}, last {:?}",
                answers.len(),
                answers.first().map(String::as_str).unwrap_or_default(),
                answers.last().map(String::as_str).unwrap_or_default()
            ),
        );
        let expected: Vec<String> = (0..LINES).map(|i| format!("LINE {i} OF {LINES}")).collect();
        d.check(
            served.lines == LINES && answers == expected,
            "every line arrived whole and in order, both ways",
        )?;
        let most = client_writes
            .max(server_reads)
            .max(server_writes)
            .max(client_reads);
        d.check(
            most < LINES / 10,
            "the buffered layer found the lines; the socket moved a few big chunks (under 100 read() and 100 write() calls each way)",
        )?;
        d.metric("makefile.lines", LINES as f64, "lines");
        d.metric("makefile.client_writes", client_writes as f64, "calls");
        d.metric("makefile.server_reads", server_reads as f64, "calls");
        Ok(())
    })
}
