//! The wire as evidence: the packets of a demo's own connections, as the kernel put
//! them on the loopback interface.
//!
//! [`open`] opens a packet socket (`AF_PACKET`, packet(7)) bound to `lo` of the network
//! namespace the calling thread is in, before the demo sends its first packet. Each
//! frame gets the kernel's timestamp (`SO_TIMESTAMPNS`). Loopback shows every packet
//! twice, leaving and arriving; only the leaving copy is kept (`PACKET_OUTGOING`): the
//! kernel hands it to packet sockets inside the sender's own call, before the packet
//! can have any effect on its peer, so by the time a demo sees the effect, the packet
//! is on the capture. (A packet that a queue drops before it leaves is not seen.) A
//! classic BPF filter keeps IPv4 and IPv6 frames only; the demo's connections are picked
//! in user space by their addresses ([`Capture::connection`]), since their ports are not
//! known when the capture opens. A thread reads frames as they come, so a long run does
//! not overflow the socket's buffer; [`Capture::connection`] first reads what is queued,
//! so what the demo has seen the kernel do is on the wire it reads.
//!
//! Whoever reads a frame (the thread, or [`Capture::connection`]) decodes it at once
//! and, when Run live asked for it ([`contract::PACKETS_ENV`]), writes it out as a
//! [`contract::wire::LivePacket`] the moment it is read: the capture numbers the flows
//! it sees in the order of their first packets (the sender of the first SYN, or of a
//! UDP flow's first datagram, is the client), so the presenter's ladder can draw each
//! arrow as the kernel sends the packet, long before the demo's check names the
//! connection. A recorded connection carries its flow's number.
//!
//! Frames are decoded with etherparse into [`contract::wire::Packet`]s: time,
//! direction, TCP flags, relative seq and ack, payload length, window, MSS, window scale
//! and SACK options, and for UDP the length. [`record`] stores a connection in the
//! transcript (capture sets [`contract::WIRE_ENV`]).
//!
//! Capture needs CAP_NET_RAW. Without it [`open`] says so in one line and returns
//! `None`; the demo runs its other checks and skips only those on the wire.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use contract::wire::{Connection, LivePacket, Packet, hex, pcap::SNAPLEN};

use crate::evidence::Observed;
use crate::{Demo, Result};

/// The source every packet seen on the wire is named by: `kernel (wire): ...`.
pub const SOURCE: &str = "wire";

/// A frame as read: kernel time, the bytes (whole, up to loopback's MTU) and its length.
struct Frame {
    unix_ns: u64,
    data: Vec<u8>,
    len: u32,
}

/// What the capture has read so far.
struct Seen {
    frames: Vec<Frame>,
    /// Every flow seen, numbered by its index.
    flows: Vec<Flow>,
    /// Where each packet goes as it is read (Run live), if anywhere.
    sink: Option<std::fs::File>,
}

/// One flow: its ends, and what makes its packets' times and numbers relative.
struct Flow {
    client: SocketAddr,
    server: SocketAddr,
    /// The kernel time of its first packet.
    first_ns: Option<u64>,
    /// Each side's first sequence number (client, server), for relative seq and ack.
    base: [Option<u32>; 2],
}

impl Flow {
    fn new(client: SocketAddr, server: SocketAddr) -> Flow {
        Flow {
            client,
            server,
            first_ns: None,
            base: [None, None],
        }
    }

    /// Whether `h` goes between this flow's ends, either way.
    fn carries(&self, h: &Headers) -> bool {
        (h.src == self.client && h.dst == self.server)
            || (h.src == self.server && h.dst == self.client)
    }

    /// The next packet of this flow, decoded as `h`, as the transcript stores it: the
    /// one definition of a packet, for the stream and the recorded connection alike.
    /// `None` when it belongs to another flow.
    fn packet(&mut self, h: &Headers, f: &Frame) -> Option<Packet> {
        if !self.carries(h) {
            return None;
        }
        let from_client = h.src == self.client;
        let t0 = *self.first_ns.get_or_insert(f.unix_ns);
        let me = usize::from(!from_client);
        let mine = *self.base[me].get_or_insert(h.seq);
        let theirs = self.base[1 - me];
        let rel = |n: u32| theirs.map_or(0, |b| n.wrapping_sub(b));
        let mut frame = f.data.clone();
        frame.truncate(SNAPLEN as usize);
        Some(Packet {
            at_us: (f.unix_ns.saturating_sub(t0)) / 1000,
            from_client,
            proto: h.proto.to_owned(),
            flags: h.flags.iter().map(|s| s.to_string()).collect(),
            seq: h.seq.wrapping_sub(mine),
            ack: if h.flags.contains(&"ACK") {
                rel(h.ack)
            } else {
                0
            },
            len: h.len,
            win: h.win,
            mss: h.mss,
            wscale: h.wscale,
            sack_ok: h.sack_ok,
            sack: h.sack.iter().map(|&(a, b)| [rel(a), rel(b)]).collect(),
            frame: hex(&frame),
            frame_len: f.len,
        })
    }

    fn start_unix_us(&self) -> u64 {
        self.first_ns.unwrap_or(0) / 1000
    }
}

impl Seen {
    /// Keeps a frame just read: numbers its flow if it is the first of one, and writes
    /// the packet to the sink at once.
    fn keep(&mut self, f: Frame) {
        if let Some(h) = decode(&f.data) {
            let n = match self.flows.iter().position(|flow| flow.carries(&h)) {
                Some(n) => n,
                None => {
                    // The side that sends the first SYN (not its answer) opened the flow;
                    // for a SYN-ACK the other side did; otherwise the first sender.
                    let answer = h.flags.contains(&"SYN") && h.flags.contains(&"ACK");
                    let (client, server) = if answer {
                        (h.dst, h.src)
                    } else {
                        (h.src, h.dst)
                    };
                    self.flows.push(Flow::new(client, server));
                    self.flows.len() - 1
                }
            };
            let flow = &mut self.flows[n];
            if let (Some(packet), Some(sink)) = (flow.packet(&h, &f), self.sink.as_mut()) {
                let live = LivePacket {
                    flow: n as u32,
                    client: flow.client.to_string(),
                    server: flow.server.to_string(),
                    start_unix_us: flow.start_unix_us(),
                    packet,
                };
                let written = serde_json::to_string(&live)
                    .map_err(std::io::Error::from)
                    .and_then(|mut line| {
                        line.push('\n');
                        std::io::Write::write_all(sink, line.as_bytes())
                    });
                if let Err(e) = written {
                    eprintln!("warning: the packets stop streaming here: {e}");
                    self.sink = None;
                }
            }
        }
        self.frames.push(f);
    }

    /// The number of the flow between `a` and `b`, either way.
    fn flow_of(&self, a: SocketAddr, b: SocketAddr) -> Option<u32> {
        self.flows
            .iter()
            .position(|f| (f.client == a && f.server == b) || (f.client == b && f.server == a))
            .map(|n| n as u32)
    }
}

/// The file Run live reads the stream of packets from ([`contract::PACKETS_ENV`]).
fn packet_sink() -> Option<std::fs::File> {
    let path = std::env::var_os(contract::PACKETS_ENV)?;
    match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
    {
        Ok(f) => Some(f),
        Err(e) => {
            eprintln!(
                "warning: the packets are not streamed: {}: {e}",
                std::path::Path::new(&path).display()
            );
            None
        }
    }
}

struct Inner {
    fd: OwnedFd,
    ifindex: i32,
    seen: Mutex<Seen>,
    stop: AtomicBool,
}

/// A running capture on `lo`; the reading thread ends when this is dropped.
pub struct Capture {
    inner: Arc<Inner>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Opens the capture on this network namespace's `lo`, or says in one line why the
/// wire is not shown and returns `None` (no CAP_NET_RAW).
pub fn open(d: &Demo) -> Result<Option<Capture>> {
    match Capture::open(packet_sink()) {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            d.step(
                "the wire is not shown: capturing packets needs CAP_NET_RAW (wire checks skipped)",
            );
            Ok(None)
        }
        Err(e) => Err(e).context("opening a packet socket on lo"),
    }
}

fn setsockopt<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> std::io::Result<()> {
    // SAFETY: `value` points to a live T of the size passed, for the call's duration.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `ldh [12]; jeq #0x800 → keep; jeq #0x86dd → keep; drop`: IP frames only.
fn ip_only_filter() -> [libc::sock_filter; 5] {
    let op = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    [
        op(
            (libc::BPF_LD | libc::BPF_H | libc::BPF_ABS) as u16,
            0,
            0,
            12,
        ),
        op(
            (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            1,
            0,
            0x0800,
        ),
        op(
            (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            0,
            1,
            0x86dd,
        ),
        op((libc::BPF_RET | libc::BPF_K) as u16, 0, 0, 0x40000),
        op((libc::BPF_RET | libc::BPF_K) as u16, 0, 0, 0),
    ]
}

impl Capture {
    /// Opens the capture; each packet read is written to `sink` as it is read.
    fn open(sink: Option<std::fs::File>) -> std::io::Result<Capture> {
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2); the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(proto),
            )
        };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let filter = ip_only_filter();
        let prog = libc::sock_fprog {
            len: filter.len() as u16,
            filter: filter.as_ptr().cast_mut(),
        };
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)?;
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &1i32)?;
        let buf = 8i32 << 20;
        if setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &buf).is_err() {
            setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &buf)?;
        }
        let ifindex = nix::net::if_::if_nametoindex("lo").map_err(std::io::Error::from)? as i32;
        // SAFETY: an all-zero sockaddr_ll is valid; the fields that matter are set below.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = ifindex;
        // SAFETY: `sll` is a valid sockaddr_ll of the size passed.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let inner = Arc::new(Inner {
            fd,
            ifindex,
            seen: Mutex::new(Seen {
                frames: Vec::new(),
                flows: Vec::new(),
                sink,
            }),
            stop: AtomicBool::new(false),
        });
        let reader = Arc::clone(&inner);
        let thread = std::thread::Builder::new()
            .name("wire".into())
            .spawn(move || reader.read_until_stopped())?;
        Ok(Capture {
            inner,
            thread: Some(thread),
        })
    }

    /// The packets seen so far between `client` and `server`, in both directions, as
    /// the transcript stores them. `name` is what `{{#ladder DEMO NAME}}` picks. What the
    /// wire shows is the kernel's doing: evidence with the source `wire`, printed as
    /// `kernel (wire): ...` by `d.key`/`d.saw` of what a demo selects from it.
    pub fn connection(
        &self,
        name: &str,
        client: SocketAddr,
        server: SocketAddr,
    ) -> Observed<Connection> {
        Observed::new(SOURCE, self.decode_connection(name, client, server))
    }

    fn decode_connection(&self, name: &str, client: SocketAddr, server: SocketAddr) -> Connection {
        let seen = self.inner.drain();
        // The same decoding as the stream's, with the ends the demo names.
        let mut flow = Flow::new(client, server);
        let packets = seen
            .frames
            .iter()
            .filter_map(|f| flow.packet(&decode(&f.data)?, f))
            .collect();
        Connection {
            name: name.to_owned(),
            client: client.to_string(),
            server: server.to_string(),
            start_unix_us: flow.start_unix_us(),
            packets,
            key: None,
            show: None,
            flow: seen.flow_of(client, server),
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Inner {
    fn read_until_stopped(&self) {
        use std::os::fd::AsFd;
        while !self.stop.load(Ordering::Relaxed) {
            let mut fds = [nix::poll::PollFd::new(
                self.fd.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            if nix::poll::poll(&mut fds, 20u16).is_err() {
                return;
            }
            drop(self.drain());
        }
    }

    /// Reads every queued frame (without blocking), streaming each as it is read, and
    /// returns all frames read so far.
    fn drain(&self) -> std::sync::MutexGuard<'_, Seen> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut buf = vec![0u8; 65_600];
        while let Some(frame) = self.recv(&mut buf) {
            if let Some(frame) = frame {
                seen.keep(frame);
            }
        }
        seen
    }

    /// One frame, `Some(None)` for a frame that is not ours to keep, `None` when the
    /// queue is empty.
    fn recv(&self, buf: &mut [u8]) -> Option<Option<Frame>> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: all-zero is a valid sockaddr_ll and msghdr; the pointers are set below.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut control = [0u64; 16];
        // SAFETY: as above.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&raw mut from).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: every pointer in `msg` points to a live buffer of the length given.
        let n = unsafe {
            libc::recvmsg(
                self.fd.as_raw_fd(),
                &raw mut msg,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            return None;
        }
        if from.sll_ifindex != self.ifindex || from.sll_pkttype != libc::PACKET_OUTGOING {
            return Some(None);
        }
        let mut unix_ns = None;
        // SAFETY: `msg` was filled by recvmsg; the CMSG macros walk its control buffer.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&raw const msg) };
        while !cmsg.is_null() {
            // SAFETY: `cmsg` is a header inside the control buffer (checked non-null).
            let h = unsafe { &*cmsg };
            if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SCM_TIMESTAMPNS {
                // SAFETY: SCM_TIMESTAMPNS carries a struct timespec, maybe unaligned.
                let ts: libc::timespec =
                    unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
                unix_ns = Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            // SAFETY: as for CMSG_FIRSTHDR.
            cmsg = unsafe { libc::CMSG_NXTHDR(&raw const msg, cmsg) };
        }
        let len = n as usize;
        Some(unix_ns.map(|unix_ns| Frame {
            unix_ns,
            data: buf[..len.min(buf.len())].to_vec(),
            len: len as u32,
        }))
    }
}

/// What a frame says, decoded.
#[derive(Debug, PartialEq)]
struct Headers {
    src: SocketAddr,
    dst: SocketAddr,
    proto: &'static str,
    flags: Vec<&'static str>,
    seq: u32,
    ack: u32,
    len: u32,
    win: u16,
    mss: Option<u16>,
    wscale: Option<u8>,
    sack_ok: bool,
    sack: Vec<(u32, u32)>,
}

/// Decodes an Ethernet frame carrying TCP or UDP over IPv4 or IPv6; `None` for others.
fn decode(frame: &[u8]) -> Option<Headers> {
    use etherparse::{LaxNetSlice, LaxSlicedPacket, TcpOptionElement, TransportSlice};
    let p = LaxSlicedPacket::from_ethernet(frame).ok()?;
    let (src, dst, ip_payload) = match p.net.as_ref()? {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let payload = usize::from(h.total_len()).saturating_sub(usize::from(h.ihl()) * 4);
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                payload,
            )
        }
        LaxNetSlice::Ipv6(ip) => {
            let h = ip.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                usize::from(h.payload_length()),
            )
        }
        LaxNetSlice::Arp(_) => return None,
    };
    match p.transport.as_ref()? {
        TransportSlice::Tcp(tcp) => {
            let mut seen = Headers {
                src: SocketAddr::new(src, tcp.source_port()),
                dst: SocketAddr::new(dst, tcp.destination_port()),
                proto: "tcp",
                flags: [
                    (tcp.syn(), "SYN"),
                    (tcp.fin(), "FIN"),
                    (tcp.rst(), "RST"),
                    (tcp.psh(), "PSH"),
                    (tcp.ack(), "ACK"),
                    (tcp.urg(), "URG"),
                ]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                len: ip_payload.saturating_sub(usize::from(tcp.data_offset()) * 4) as u32,
                win: tcp.window_size(),
                mss: None,
                wscale: None,
                sack_ok: false,
                sack: Vec::new(),
            };
            for option in tcp.options_iterator().flatten() {
                match option {
                    TcpOptionElement::MaximumSegmentSize(m) => seen.mss = Some(m),
                    TcpOptionElement::WindowScale(w) => seen.wscale = Some(w),
                    TcpOptionElement::SelectiveAcknowledgementPermitted => seen.sack_ok = true,
                    TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                        seen.sack.push(first);
                        seen.sack.extend(rest.into_iter().flatten());
                    }
                    _ => {}
                }
            }
            Some(seen)
        }
        TransportSlice::Udp(udp) => Some(Headers {
            src: SocketAddr::new(src, udp.source_port()),
            dst: SocketAddr::new(dst, udp.destination_port()),
            proto: "udp",
            flags: Vec::new(),
            seq: 0,
            ack: 0,
            len: u32::from(udp.length()).saturating_sub(8),
            win: 0,
            mss: None,
            wscale: None,
            sack_ok: false,
            sack: Vec::new(),
        }),
        _ => None,
    }
}

/// Stores `c` in the transcript when capture asked for it ([`contract::WIRE_ENV`]).
pub fn record(c: &Connection) {
    let Some(path) = std::env::var_os(contract::WIRE_ENV) else {
        return;
    };
    let write = || -> Result<()> {
        let mut line = serde_json::to_string(c)?;
        line.push('\n');
        std::io::Write::write_all(
            &mut std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)?,
            line.as_bytes(),
        )?;
        Ok(())
    };
    if let Err(e) = write() {
        eprintln!("warning: could not record the wire of {}: {e:#}", c.name);
    }
}

/// The index of the first packet sent by the client (or the server) carrying `flag`
/// (`SYN`, `FIN`, `RST`, ...; `DATA` for a payload), from packet `after` on.
pub fn first(c: &Connection, by_client: bool, flag: &str, after: usize) -> Option<usize> {
    c.packets
        .iter()
        .enumerate()
        .skip(after)
        .find(|(_, p)| {
            p.from_client == by_client
                && if flag == "DATA" {
                    p.len > 0
                } else {
                    p.has(flag)
                }
        })
        .map(|(i, _)| i)
}

/// Packet `i` of a connection seen on the wire, described ([`describe`]): a
/// `kernel (wire): client → server: RST, ACK` line when printed with `d.key`.
pub fn packet(c: &Observed<Connection>, i: usize) -> Option<Observed<String>> {
    let p = c.value().packets.get(i)?;
    Some(Observed::new(c.source(), describe(p)))
}

/// What `read` reads off the packets of a connection seen on the wire (their times,
/// flags, what [`describe`] says of them), still as the wire's evidence. `read` only
/// reads the packets; a number the demo works out from them is a `so:` line.
pub fn read<T>(c: &Observed<Connection>, read: impl FnOnce(&Connection) -> T) -> Observed<T> {
    Observed::new(c.source(), read(c.value()))
}

/// A duration between two packets, for a `kernel (wire):` line.
pub fn gap(a: &Packet, b: &Packet) -> Duration {
    Duration::from_micros(b.at_us.saturating_sub(a.at_us))
}

/// The packet as one short phrase: `client → server: SYN (MSS 65495, wscale 7)`.
pub fn describe(p: &Packet) -> String {
    let (from, to) = if p.from_client {
        ("client", "server")
    } else {
        ("server", "client")
    };
    let mut s = format!("{from} → {to}: {}", p.label());
    if p.has("SYN") {
        let opts: Vec<String> = [
            p.mss.map(|m| format!("MSS {m}")),
            p.wscale.map(|w| format!("wscale {w}")),
            p.sack_ok.then(|| "SACK ok".to_owned()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !opts.is_empty() {
            s.push_str(&format!(" ({})", opts.join(", ")));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet + IPv4 + TCP frame built with etherparse, as a test input.
    fn tcp_frame(syn: bool, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut tcp = etherparse::TcpHeader::new(40000, 8080, seq, 65535);
        tcp.syn = syn;
        if syn {
            tcp.set_options(&[
                etherparse::TcpOptionElement::MaximumSegmentSize(65495),
                etherparse::TcpOptionElement::SelectiveAcknowledgementPermitted,
                etherparse::TcpOptionElement::WindowScale(7),
            ])
            .unwrap();
        } else {
            tcp.ack = true;
            tcp.acknowledgment_number = 77;
        }
        let builder = etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 2], 64)
            .tcp_header(tcp);
        let mut out = Vec::new();
        builder.write(&mut out, payload).unwrap();
        out
    }

    #[test]
    fn a_syn_decodes_with_its_options() {
        let seen = decode(&tcp_frame(true, 1000, &[])).unwrap();
        assert_eq!(seen.src, "127.0.0.1:40000".parse().unwrap());
        assert_eq!(seen.dst, "127.0.0.2:8080".parse().unwrap());
        assert_eq!(seen.flags, ["SYN"]);
        assert_eq!(
            (seen.mss, seen.wscale, seen.sack_ok),
            (Some(65495), Some(7), true)
        );
        assert_eq!(seen.len, 0);
    }

    #[test]
    fn a_data_segment_decodes_with_its_payload_length() {
        let seen = decode(&tcp_frame(false, 1001, b"0123456789")).unwrap();
        assert_eq!(seen.flags, ["ACK"]);
        assert_eq!(
            (seen.seq, seen.ack, seen.len, seen.win),
            (1001, 77, 10, 65535)
        );
        assert_eq!(seen.mss, None);
    }

    #[test]
    fn frames_that_are_not_tcp_or_udp_are_ignored() {
        assert_eq!(decode(&[0u8; 10]), None);
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.extend_from_slice(&[0u8; 28]);
        assert_eq!(decode(&arp), None);
    }

    #[test]
    fn the_filter_keeps_ip_and_nothing_else() {
        let f = ip_only_filter();
        assert_eq!(f[1].k, 0x0800);
        assert_eq!(f[2].k, 0x86dd);
        assert_eq!(f[4].k, 0, "everything else is dropped");
        // ldh [12]; jeq #k, jt, jf (twice); ret #k (twice): linux/filter.h's codes.
        let codes: Vec<(u16, u8, u8)> = f.iter().map(|i| (i.code, i.jt, i.jf)).collect();
        assert_eq!(
            codes,
            [
                (0x28, 0, 0),
                (0x15, 1, 0),
                (0x15, 0, 1),
                (0x06, 0, 0),
                (0x06, 0, 0)
            ]
        );
        assert_eq!((f[0].k, f[3].k), (12, 0x40000));
    }

    /// An Ethernet frame from `src` to `dst` (both IPv4 or both IPv6): TCP with `flags`
    /// (`S`yn, `A`ck, `F`in, `R`st, `P`sh, `U`rg), or UDP when `flags` is `None`.
    fn frame(
        src: &str,
        dst: &str,
        flags: Option<&str>,
        seq: u32,
        ack: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let (src, dst): (SocketAddr, SocketAddr) = (src.parse().unwrap(), dst.parse().unwrap());
        let eth = etherparse::PacketBuilder::ethernet2([0; 6], [0; 6]);
        let ip = match (src.ip(), dst.ip()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => eth.ipv4(a.octets(), b.octets(), 64),
            (IpAddr::V6(a), IpAddr::V6(b)) => eth.ipv6(a.octets(), b.octets(), 64),
            _ => panic!("one family"),
        };
        let mut out = Vec::new();
        match flags {
            None => ip
                .udp(src.port(), dst.port())
                .write(&mut out, payload)
                .unwrap(),
            Some(flags) => {
                let mut tcp = etherparse::TcpHeader::new(src.port(), dst.port(), seq, 512);
                tcp.syn = flags.contains('S');
                tcp.ack = flags.contains('A');
                tcp.fin = flags.contains('F');
                tcp.rst = flags.contains('R');
                tcp.psh = flags.contains('P');
                tcp.urg = flags.contains('U');
                tcp.acknowledgment_number = ack;
                if flags.contains('K') {
                    tcp.set_options(&[etherparse::TcpOptionElement::SelectiveAcknowledgement(
                        (ack + 100, ack + 200),
                        [Some((ack + 300, ack + 400)), None, None],
                    )])
                    .unwrap();
                }
                ip.tcp_header(tcp).write(&mut out, payload).unwrap()
            }
        }
        out
    }

    fn at(unix_ns: u64, data: Vec<u8>) -> Frame {
        let len = data.len() as u32;
        Frame { unix_ns, data, len }
    }

    #[test]
    fn udp_ipv6_sack_and_every_flag_decode() {
        let udp = decode(&frame("[::1]:5000", "[::1]:6000", None, 0, 0, b"hello")).unwrap();
        assert_eq!(
            (udp.proto, udp.len, udp.src, udp.dst),
            (
                "udp",
                5,
                "[::1]:5000".parse().unwrap(),
                "[::1]:6000".parse().unwrap()
            )
        );
        let v6 = decode(&frame("[::1]:1", "[::1]:2", Some("AP"), 7, 9, b"abc")).unwrap();
        assert_eq!((v6.len, v6.flags.as_slice()), (3, &["PSH", "ACK"][..]));
        let all = decode(&frame(
            "127.0.0.1:1",
            "127.0.0.1:2",
            Some("SFRPAUK"),
            1,
            1000,
            b"",
        ))
        .unwrap();
        assert_eq!(all.flags, ["SYN", "FIN", "RST", "PSH", "ACK", "URG"]);
        assert_eq!(all.sack, [(1100, 1200), (1300, 1400)]);
    }

    #[test]
    fn the_capture_numbers_flows_by_their_opener_and_makes_numbers_relative() {
        let (a, b, c) = ("127.0.0.1:40000", "127.0.0.1:8080", "127.0.0.1:40001");
        let mut seen = Seen {
            frames: Vec::new(),
            flows: Vec::new(),
            sink: None,
        };
        // The capture opens after the SYN: the SYN-ACK's receiver is the client.
        seen.keep(at(5_000_000, frame(b, a, Some("SA"), 900, 101, b"")));
        seen.keep(at(5_250_000, frame(a, b, Some("AK"), 101, 901, b"")));
        seen.keep(at(
            6_500_000,
            frame(a, b, Some("AP"), 101, 901, b"0123456789"),
        ));
        // Another flow whose first packet is data: its sender is the client.
        seen.keep(at(7_000_000, frame(c, b, Some("A"), 5, 6, b"x")));
        seen.keep(at(7_000_000, vec![0u8; 20]));
        assert_eq!(seen.frames.len(), 5, "every frame is kept");
        let (a, b, c): (SocketAddr, SocketAddr, SocketAddr) =
            (a.parse().unwrap(), b.parse().unwrap(), c.parse().unwrap());
        assert_eq!((seen.flows[0].client, seen.flows[0].server), (a, b));
        assert_eq!((seen.flows[1].client, seen.flows[1].server), (c, b));
        assert_eq!(seen.flow_of(a, b), Some(0));
        assert_eq!(seen.flow_of(b, a), Some(0));
        assert_eq!(seen.flow_of(b, c), Some(1));
        assert_eq!(seen.flow_of(a, c), None);
        assert_eq!(seen.flows[0].start_unix_us(), 5_000);
        // Decoded again with the ends the demo names, as `Capture::connection` does.
        let mut flow = Flow::new(a, b);
        let packets: Vec<Packet> = seen
            .frames
            .iter()
            .filter_map(|f| flow.packet(&decode(&f.data)?, f))
            .collect();
        let summary: Vec<(u64, bool, u32, u32, u32)> = packets
            .iter()
            .map(|p| (p.at_us, p.from_client, p.seq, p.ack, p.len))
            .collect();
        assert_eq!(
            summary,
            [
                (0, false, 0, 0, 0),
                (250, true, 0, 1, 0),
                (1500, true, 0, 1, 10)
            ]
        );
        assert_eq!(packets[1].sack, [[101, 201], [301, 401]]);
        assert_eq!(flow.start_unix_us(), 5_000);
        assert_eq!(packets[2].frame_len as usize, seen.frames[2].data.len());
    }

    #[test]
    fn describe_says_who_sent_what_and_a_syns_options() {
        let mut syn = Packet::tcp(0, true, &["SYN"], 0);
        (syn.mss, syn.wscale, syn.sack_ok) = (Some(65495), Some(7), true);
        assert_eq!(
            describe(&syn),
            "client → server: SYN (MSS 65495, wscale 7, SACK ok)"
        );
        syn.sack_ok = false;
        syn.mss = None;
        assert_eq!(describe(&syn), "client → server: SYN (wscale 7)");
        let mut bare = Packet::tcp(0, false, &["SYN", "ACK"], 0);
        assert_eq!(describe(&bare), "server → client: SYN, ACK");
        // Options are only a SYN's: on any other segment they are not named.
        bare = Packet {
            mss: Some(1),
            ..Packet::tcp(9, false, &["ACK"], 5)
        };
        assert_eq!(describe(&bare), "server → client: 5 bytes");
    }

    #[test]
    fn packets_are_found_by_sender_and_flag_and_read_as_the_wires() {
        let c = Connection {
            name: "t".into(),
            client: "127.0.0.1:1".into(),
            server: "127.0.0.1:2".into(),
            start_unix_us: 0,
            packets: vec![
                Packet::tcp(0, true, &["SYN"], 0),
                Packet::tcp(40, false, &["SYN", "ACK"], 0),
                Packet::tcp(80, true, &["ACK"], 5),
                Packet::tcp(1_500, false, &["RST", "ACK"], 0),
                Packet::tcp(1_600, true, &["ACK"], 7),
            ],
            key: None,
            show: None,
            flow: None,
        };
        assert_eq!(first(&c, true, "SYN", 0), Some(0));
        assert_eq!(first(&c, false, "ACK", 0), Some(1));
        assert_eq!(first(&c, true, "DATA", 0), Some(2));
        assert_eq!(first(&c, true, "DATA", 3), Some(4));
        assert_eq!(first(&c, false, "RST", 0), Some(3));
        assert_eq!(first(&c, true, "RST", 0), None);
        assert_eq!(first(&c, false, "DATA", 0), None);
        assert_eq!(
            gap(&c.packets[1], &c.packets[3]),
            Duration::from_micros(1_460)
        );
        let seen = Observed::new(SOURCE, c);
        let rst = packet(&seen, 3).unwrap();
        assert_eq!(
            (rst.source(), rst.value().as_str()),
            ("wire", "server → client: RST")
        );
        assert!(packet(&seen, 5).is_none());
        let n = read(&seen, |c| c.packets.len());
        assert_eq!((n.source(), *n.value()), ("wire", 5));
    }

    /// Runs `f` on a thread of its own and fails if it has not returned within 10 s: a
    /// capture that blocks is a failure, not a test that never ends.
    fn within_10s(f: impl FnOnce() + Send + 'static) {
        let (done, wait) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            f();
            let _ = done.send(());
        });
        match wait.recv_timeout(Duration::from_secs(10)) {
            Ok(()) => t.join().unwrap(),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                std::panic::resume_unwind(t.join().unwrap_err())
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("the capture blocked for 10 s")
            }
        }
    }

    /// Needs CAP_NET_RAW; skipped (passes, saying so) without it.
    #[test]
    fn a_loopback_connection_is_captured_with_its_handshake() {
        within_10s(a_loopback_connection_is_captured);
    }

    fn a_loopback_connection_is_captured() {
        let cap = match Capture::open(None) {
            Ok(c) => c,
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                eprintln!("skipped: no CAP_NET_RAW");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let (mut client, mut server) = crate::net::tcp_pair().unwrap();
        let (c, s) = (client.local_addr().unwrap(), server.local_addr().unwrap());
        std::io::Write::write_all(&mut client, b"hello").unwrap();
        std::io::Read::read_exact(&mut server, &mut [0u8; 5]).unwrap();
        drop(client);
        std::thread::sleep(Duration::from_millis(50));
        let conn = cap.connection("t", c, s);
        assert_eq!(conn.source(), "wire");
        let conn = conn.into_value();
        let labels: Vec<String> = conn.packets.iter().map(|p| p.label()).collect();
        assert_eq!(labels[..3], ["SYN", "SYN, ACK", "ACK"], "{labels:?}");
        assert!(labels.contains(&"5 bytes".to_owned()), "{labels:?}");
        assert!(labels.contains(&"FIN".to_owned()), "{labels:?}");
        let data = conn.packets.iter().find(|p| p.len == 5).unwrap();
        assert_eq!((data.seq, data.ack), (1, 1), "relative numbers");
        assert!(conn.packets[0].mss.is_some());
        assert!(conn.validate().is_ok());
        let now_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        assert!(
            now_us.abs_diff(conn.start_unix_us) < 10_000_000,
            "kernel timestamps are wall-clock time: {} vs now {now_us}",
            conn.start_unix_us
        );
        // Times run forward from the SYN: the FIN left after a write and a read.
        let last = conn.packets.last().unwrap().at_us;
        assert!(last > 0 && last < 1_000_000, "{conn:?}");
        // Dropping the capture ends its reading thread, which held the other reference.
        let inner = Arc::downgrade(&cap.inner);
        drop(cap);
        assert!(
            inner.upgrade().is_none(),
            "the reading thread outlived its capture"
        );
    }

    /// Run live's stream: each packet is written out the moment the capture reads it,
    /// numbered by its flow, before the demo names any connection; the recorded
    /// connection then holds the same packets and its flow's number. Needs CAP_NET_RAW.
    #[test]
    fn each_packet_is_streamed_as_it_is_seen_before_the_demo_names_its_connection() {
        within_10s(each_packet_is_streamed);
    }

    fn each_packet_is_streamed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("packets.jsonl");
        let sink = std::fs::File::create(&path).unwrap();
        let cap = match Capture::open(Some(sink)) {
            Ok(c) => c,
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                eprintln!("skipped: no CAP_NET_RAW");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let streamed = || -> Vec<LivePacket> {
            std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let (client, server) = crate::net::tcp_pair().unwrap();
        let (c, s) = (client.local_addr().unwrap(), server.local_addr().unwrap());
        // The handshake must reach the file by itself (the thread reads it), without
        // the demo asking for its connection.
        let t0 = std::time::Instant::now();
        let ours = |p: &LivePacket| p.client == c.to_string() && p.server == s.to_string();
        let early = loop {
            let lines = streamed();
            if lines.iter().filter(|p| ours(p)).count() >= 3 {
                break lines;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(2),
                "the handshake was not streamed while the connection was open: {lines:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        eprintln!("handshake streamed within {:?}", t0.elapsed());
        let flow = early.iter().find(|p| ours(p)).unwrap().flow;
        let labels: Vec<String> = early
            .iter()
            .filter(|p| ours(p))
            .map(|p| p.packet.label())
            .collect();
        assert_eq!(labels[..3], ["SYN", "SYN, ACK", "ACK"], "{labels:?}");
        drop((client, server));
        std::thread::sleep(Duration::from_millis(50));
        let conn = cap.connection("t", c, s).into_value();
        assert_eq!(
            conn.flow,
            Some(flow),
            "the recorded connection names its flow"
        );
        let mine: Vec<Packet> = streamed()
            .into_iter()
            .filter(|p| p.flow == flow)
            .map(|p| {
                assert_eq!(p.start_unix_us, conn.start_unix_us);
                p.packet
            })
            .collect();
        assert_eq!(
            mine, conn.packets,
            "one definition of a packet, streamed or recorded"
        );
    }
}
