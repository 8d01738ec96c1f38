//! A socket can be used like a file: a buffered reader and writer over a TCP stream read and write whole lines, like Python's makefile().
//!
//! socket(7): a socket is a descriptor, so read(2) and write(2) work on it; the line
//! structure comes from the buffered layer on top (Rust's `BufReader`/`BufWriter`,
//! Python's `socket.makefile()`), not from the socket, which only moves bytes.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, TcpStream};

use anyhow::Context;
use demos::{Result, net};

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
fn serve(stream: &TcpStream) -> Result<Served> {
    let mut input = BufReader::new(Counted::new(stream));
    let mut output = BufWriter::new(Counted::new(stream));
    let mut lines = 0;
    for line in input.by_ref().lines() {
        let line = line.context("server: reading a line")?;
        writeln!(output, "{}", line.to_uppercase()).context("server: writing a line")?;
        lines += 1;
    }
    output.flush().context("server: flush")?;
    let writes = output.get_ref().calls;
    stream
        .shutdown(Shutdown::Write)
        .context("server: shutdown")?;
    Ok(Served {
        lines,
        reads: input.get_ref().calls,
        writes,
    })
}

fn main() {
    demos::run(|d| {
        d.expect("BufReader::lines() and writeln! work on a socket as on a file");
        let (client, server) = net::tcp_pair()?;

        d.step(format_args!(
            "client: BufWriter over the socket, writeln! {LINES} lines, flush, shutdown(SHUT_WR)"
        ));
        let capacity = if d.breaks("the client's BufWriter has no buffer (capacity 0)") {
            0
        } else {
            8 << 10
        };
        let mut output = BufWriter::with_capacity(capacity, Counted::new(&client));
        for i in 0..LINES {
            writeln!(output, "line {i} of {LINES}").context("client: writeln")?;
        }
        output.flush().context("client: flush")?;
        let client_writes = output.get_ref().calls;
        drop(output);
        client
            .shutdown(Shutdown::Write)
            .context("client: shutdown")?;
        d.key(format_args!(
            "{LINES} lines became {client_writes} write() call(s) on the socket"
        ));

        d.step("server: for line in BufReader::lines() { writeln!(upper case) }");
        // The client's lines are all queued in the socket already, so the server can
        // run to EOF right here; the answers wait in the other direction's queue.
        let served = serve(&server)?;
        d.key(format_args!(
            "server: {} lines from {} read() calls, answered in {} write() calls",
            served.lines, served.reads, served.writes
        ));

        d.step("client: BufReader::lines() on the answers");
        let mut input = BufReader::new(Counted::new(&client));
        let answers: Vec<String> = input
            .by_ref()
            .lines()
            .collect::<std::io::Result<_>>()
            .context("client: reading lines")?;
        let client_reads = input.get_ref().calls;
        d.saw(format_args!(
            "{} lines back from {client_reads} read() calls, first {:?}, last {:?}",
            answers.len(),
            answers.first().map(String::as_str).unwrap_or_default(),
            answers.last().map(String::as_str).unwrap_or_default()
        ));
        let expected: Vec<String> = (0..LINES).map(|i| format!("LINE {i} OF {LINES}")).collect();
        d.check(
            served.lines == LINES && answers == expected,
            "every line arrived whole and in order, both ways",
        )?;
        d.check(
            client_writes < LINES / 10 && served.reads < LINES / 10 && client_reads < LINES / 10,
            "the buffered layer found the lines; the socket moved a few big chunks",
        )?;
        d.metric("makefile.lines", LINES as f64, "lines");
        d.metric("makefile.client_writes", client_writes as f64, "calls");
        d.metric("makefile.server_reads", served.reads as f64, "calls");
        Ok(())
    })
}
