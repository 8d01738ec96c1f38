//! Packets on the wire, as a demo's packet socket saw them (`demos::wire`), stored in
//! the transcript (format 2), drawn as a ladder on a slide and written as a `.pcap`
//! beside the book so a reader can open the run in Wireshark.

use serde::{Deserialize, Serialize};

/// One connection (or UDP flow) of a demo: its packets in the order they were seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// The demo's name for it (`defaults`, `unread`), what `{{#ladder DEMO NAME}}` picks.
    pub name: String,
    /// The side that opened it (the left lifeline), `127.0.0.1:40112`.
    pub client: String,
    /// The other side (the right lifeline).
    pub server: String,
    /// Microseconds since the Unix epoch of the first packet (kernel timestamp).
    pub start_unix_us: u64,
    pub packets: Vec<Packet>,
    /// The packet the demo's claim rests on (an index into `packets`), highlighted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<usize>,
    /// The packets a ladder draws, `[first, last]` (inclusive); all when absent. The
    /// `.pcap` always holds them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show: Option<[usize; 2]>,
    /// Which flow of the run's capture it is: the capture numbers the flows it sees
    /// from 0, in the order of their first packets, and streams every packet with its
    /// flow's number as it sees it ([`LivePacket`]). Run live draws a ladder from the
    /// packets of the flow its captured connection had, as they come. Absent in
    /// transcripts captured before packets were streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<u32>,
}

/// One packet as a running demo's capture saw it, written the moment it was read
/// (Run live: [`crate::PACKETS_ENV`], then a `packet` event of [`crate::live`]), before
/// the demo knows which of its connections the packet belongs to. The same
/// [`Packet`] as a recorded [`Connection`] holds, with the flow it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivePacket {
    /// The flow's number in this run ([`Connection::flow`]).
    pub flow: u32,
    /// The flow's ends as the capture saw them: the side that sent the first SYN (or,
    /// for UDP, the first datagram) is the client.
    pub client: String,
    pub server: String,
    /// Microseconds since the Unix epoch of the flow's first packet; `packet.at_us`
    /// counts from there.
    pub start_unix_us: u64,
    pub packet: Packet,
}

impl LivePacket {
    /// When the packet was seen, in microseconds since the Unix epoch (kernel time).
    pub fn unix_us(&self) -> u64 {
        self.start_unix_us + self.packet.at_us
    }
}

/// One packet, decoded, with the bytes captured from its frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Packet {
    /// Microseconds after the connection's first packet.
    pub at_us: u64,
    /// True when it went from the client to the server.
    pub from_client: bool,
    /// `tcp` or `udp`.
    pub proto: String,
    /// TCP flags in their header order: `SYN`, `ACK`, `FIN`, `RST`, `PSH`, `URG`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Sequence and acknowledgment numbers relative to each side's first (TCP).
    #[serde(default)]
    pub seq: u32,
    #[serde(default)]
    pub ack: u32,
    /// Payload bytes (TCP), or the UDP length field minus its 8-byte header.
    pub len: u32,
    /// The window field as sent (before scaling).
    #[serde(default)]
    pub win: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mss: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wscale: Option<u8>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sack_ok: bool,
    /// SACK blocks, relative like `ack`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sack: Vec<[u32; 2]>,
    /// The captured start of the frame (Ethernet header on), in hex.
    pub frame: String,
    /// The frame's length on the wire (the capture keeps at most its first bytes).
    pub frame_len: u32,
}

impl Packet {
    /// A TCP packet with only its time, direction, flags and payload length set: the
    /// one constructor the tests of every crate build packets with (a capture fills
    /// every field from the frame). Its frame is 4 bytes of hex, as a capture of
    /// 60 bytes on the wire would keep them at a 4-byte snap length.
    pub fn tcp(at_us: u64, from_client: bool, flags: &[&str], len: u32) -> Packet {
        Packet {
            at_us,
            from_client,
            proto: "tcp".into(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            seq: 0,
            ack: 0,
            len,
            win: 65535,
            mss: None,
            wscale: None,
            sack_ok: false,
            sack: vec![],
            frame: "00112233".into(),
            frame_len: 60,
        }
    }

    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// What a ladder writes on the arrow, in words: `SYN`, `SYN, ACK`, `10 bytes`,
    /// `FIN`, `RST`, `ACK`.
    pub fn label(&self) -> String {
        let mut words: Vec<String> = ["SYN", "FIN", "RST"]
            .iter()
            .filter(|f| self.has(f))
            .map(|f| f.to_string())
            .collect();
        if self.len > 0 {
            words.push(if self.len == 1 {
                "1 byte".to_owned()
            } else {
                format!("{} bytes", self.len)
            });
        }
        if self.has("ACK") && (words.is_empty() || self.has("SYN")) {
            words.push("ACK".to_owned());
        }
        if words.is_empty() {
            words.push(self.proto.to_uppercase());
        }
        words.join(", ")
    }
}

impl Connection {
    /// An empty connection named `name`, to which the packets of flow `p.flow` are
    /// added as they stream in ([`Connection::push`]).
    pub fn streamed(name: &str, p: &LivePacket) -> Connection {
        Connection {
            name: name.to_owned(),
            client: p.client.clone(),
            server: p.server.clone(),
            start_unix_us: p.start_unix_us,
            packets: Vec::new(),
            key: None,
            show: None,
            flow: Some(p.flow),
        }
    }

    /// Adds a streamed packet of this connection's flow; false (and nothing added) for
    /// one of another flow.
    pub fn push(&mut self, p: &LivePacket) -> bool {
        if self.flow != Some(p.flow) || self.client != p.client || self.server != p.server {
            return false;
        }
        self.packets.push(p.packet.clone());
        true
    }

    /// What serde cannot check: times move forward, indices point at packets, frames
    /// are hex.
    pub fn validate(&self) -> Result<(), String> {
        let at = |what: &str| format!("wire connection {:?}: {what}", self.name);
        if let Some(w) = self.packets.windows(2).find(|w| w[1].at_us < w[0].at_us) {
            return Err(at(&format!(
                "packet times go backwards ({} µs after {} µs)",
                w[1].at_us, w[0].at_us
            )));
        }
        if let Some(k) = self.key.filter(|&k| k >= self.packets.len()) {
            return Err(at(&format!("key packet {k} is not among its packets")));
        }
        if let Some([a, b]) = self.show
            && (a > b || b >= self.packets.len())
        {
            return Err(at(&format!("shown packets {a}..={b} out of range")));
        }
        for p in &self.packets {
            unhex(&p.frame).map_err(|e| at(&e))?;
        }
        Ok(())
    }

    /// The packets a ladder draws, with their indices.
    pub fn shown(&self) -> impl Iterator<Item = (usize, &Packet)> {
        let [a, b] = self
            .show
            .unwrap_or([0, self.packets.len().saturating_sub(1)]);
        self.packets
            .iter()
            .enumerate()
            .filter(move |(i, _)| (a..=b).contains(i))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err("a frame's hex has an odd length".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("a frame's hex is not hex at {i}"))
        })
        .collect()
}

/// The classic pcap format (not pcapng): a 24-byte file header and a 16-byte header
/// per record. It is small enough to write by hand (a crate would add a dependency to
/// every reader of transcripts, the WebAssembly player included), and every tool reads
/// it: tshark, tcpdump, Wireshark.
pub mod pcap {
    use super::{Connection, unhex};

    /// The most bytes of a frame the capture keeps (the pcap header's snaplen).
    pub const SNAPLEN: u32 = 256;
    /// LINKTYPE_ETHERNET: loopback and veth frames start with an Ethernet header.
    const LINKTYPE_ETHERNET: u32 = 1;

    /// Every packet of `connections`, in time order, as a pcap file in microseconds.
    pub fn write(connections: &[Connection]) -> Result<Vec<u8>, String> {
        let mut records = Vec::new();
        for c in connections {
            for p in &c.packets {
                records.push((c.start_unix_us + p.at_us, unhex(&p.frame)?, p.frame_len));
            }
        }
        records.sort_by_key(|r| r.0);
        let mut out = Vec::with_capacity(24 + records.len() * 96);
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic: µs, little-endian
        out.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes()); // thiszone: UTC
        out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        out.extend_from_slice(&SNAPLEN.to_le_bytes());
        out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        for (us, frame, len) in records {
            let secs = u32::try_from(us / 1_000_000)
                .map_err(|_| format!("a packet time ({us} µs) past 2106"))?;
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
            let incl = u32::try_from(frame.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&incl.to_le_bytes());
            out.extend_from_slice(&len.max(incl).to_le_bytes());
            out.extend_from_slice(&frame);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_words() {
        assert_eq!(Packet::tcp(0, true, &["SYN"], 0).label(), "SYN");
        assert_eq!(
            Packet::tcp(0, false, &["SYN", "ACK"], 0).label(),
            "SYN, ACK"
        );
        assert_eq!(Packet::tcp(0, true, &["ACK"], 0).label(), "ACK");
        assert_eq!(
            Packet::tcp(0, true, &["ACK", "PSH"], 10).label(),
            "10 bytes"
        );
        assert_eq!(Packet::tcp(0, true, &["ACK", "PSH"], 1).label(), "1 byte");
        assert_eq!(Packet::tcp(0, false, &["ACK", "FIN"], 0).label(), "FIN");
        assert_eq!(Packet::tcp(0, false, &["RST"], 0).label(), "RST");
    }

    #[test]
    fn validate_catches_bad_keys_ranges_times_and_hex() {
        let mut c = Connection {
            name: "x".into(),
            client: "127.0.0.1:1".into(),
            server: "127.0.0.1:2".into(),
            start_unix_us: 1,
            packets: vec![
                Packet::tcp(0, true, &["SYN"], 0),
                Packet::tcp(5, false, &["RST"], 0),
            ],
            key: Some(1),
            show: Some([0, 1]),
            flow: None,
        };
        assert_eq!(c.validate(), Ok(()));
        c.key = Some(2);
        assert!(c.validate().unwrap_err().contains("key packet 2"));
        c.key = None;
        c.show = Some([1, 2]);
        assert!(c.validate().unwrap_err().contains("out of range"));
        c.show = None;
        c.packets[1].at_us = 0;
        c.packets[0].at_us = 3;
        assert!(c.validate().unwrap_err().contains("backwards"));
        c.packets[0].at_us = 0;
        c.packets[0].frame = "0g".into();
        assert!(c.validate().unwrap_err().contains("not hex"));
    }

    #[test]
    fn pcap_has_a_header_and_one_record_per_packet_in_time_order() {
        let c = |start, name: &str| Connection {
            name: name.into(),
            client: "a".into(),
            server: "b".into(),
            start_unix_us: start,
            packets: vec![
                Packet::tcp(0, true, &["SYN"], 0),
                Packet::tcp(1_500_000, false, &[], 0),
            ],
            key: None,
            show: None,
            flow: None,
        };
        let bytes = pcap::write(&[c(10_000_000, "late"), c(2_000_000, "early")]).unwrap();
        assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
        assert_eq!(bytes.len(), 24 + 4 * (16 + 4));
        let secs: Vec<u32> = (0..4)
            .map(|i| {
                let at = 24 + i * 20;
                u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
            })
            .collect();
        assert_eq!(secs, [2, 3, 10, 11], "records sorted by time");
        let first = &bytes[24..44];
        assert_eq!(u32::from_le_bytes(first[4..8].try_into().unwrap()), 0);
        assert_eq!(u32::from_le_bytes(first[8..12].try_into().unwrap()), 4);
        assert_eq!(u32::from_le_bytes(first[12..16].try_into().unwrap()), 60);
        assert_eq!(&first[16..], &[0x00, 0x11, 0x22, 0x33]);
    }
}
