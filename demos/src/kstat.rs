//! Counters the kernel keeps about the network stack, as `/proc/net/snmp` shows them.
//!
//! These counters belong to the network namespace, not to one socket: other programs
//! (and other demos running at the same time) add to them too, so a demo compares a
//! delta with a lower bound, never with an exact number.

use anyhow::Context;

use crate::{Observed, Result};

/// One counter of `/proc/net/snmp`, e.g. `snmp("Udp", "RcvbufErrors")`.
pub fn snmp(protocol: &str, field: &str) -> Result<Observed<u64>> {
    crate::evidence::read(format_args!("/proc/net/snmp {protocol}:{field}"), || {
        let text = std::fs::read_to_string("/proc/net/snmp").context("reading /proc/net/snmp")?;
        snmp_field(&text, protocol, field)
            .with_context(|| format!("no {protocol}: {field} counter in /proc/net/snmp"))
    })
}

/// One counter of the network namespace of the calling thread, e.g.
/// `this_netns("netstat", "TcpExt", "ListenOverflows")`: `/proc/net` names the
/// namespace of the process's main thread, `/proc/thread-self/net` that of this thread,
/// which is what a demo working inside its own namespace needs.
pub fn this_netns(file: &str, protocol: &str, field: &str) -> Result<Observed<u64>> {
    let path = format!("/proc/thread-self/net/{file}");
    crate::evidence::read(format_args!("/proc/net/{file} {protocol}:{field}"), || {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        snmp_field(&text, protocol, field)
            .with_context(|| format!("no {protocol}: {field} counter in {path}"))
    })
}

/// Finds `field` in the `PROTOCOL:` header line and returns the number under it in the
/// next `PROTOCOL:` line.
fn snmp_field(text: &str, protocol: &str, field: &str) -> Option<u64> {
    let prefix = format!("{protocol}:");
    let mut lines = text.lines().filter(|l| l.starts_with(&prefix));
    let names = lines.next()?;
    let values = lines.next()?;
    let index = names.split_whitespace().position(|n| n == field)?;
    values.split_whitespace().nth(index)?.parse().ok()
}

/// The kernel's drop counter of one IPv4 UDP socket, found by its inode in
/// `/proc/net/udp` (the last column, `drops`). Unlike the `snmp` counters, nothing
/// else adds to it.
pub fn udp_drops(inode: u64) -> Result<Observed<u64>> {
    crate::evidence::read("/proc/net/udp drops", || {
        let text = std::fs::read_to_string("/proc/net/udp").context("reading /proc/net/udp")?;
        udp_drops_in(&text, inode)
            .with_context(|| format!("no socket with inode {inode} in /proc/net/udp"))
    })
}

fn udp_drops_in(text: &str, inode: u64) -> Option<u64> {
    // The header names "tx_queue rx_queue" and "tr tm->when" as two words each, but
    // each pair is one column ("00000000:00000000"), so the inode is data column 9.
    const INODE_COL: usize = 9;
    text.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.get(INODE_COL)?.parse::<u64>().ok()? == inode {
            cols.last()?.parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_counter_under_its_name() {
        let text = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
                    Udp: InDatagrams NoPorts RcvbufErrors\nUdp: 99 3 9991\n";
        assert_eq!(snmp_field(text, "Udp", "RcvbufErrors"), Some(9991));
        assert_eq!(snmp_field(text, "Ip", "DefaultTTL"), Some(64));
        assert_eq!(snmp_field(text, "Udp", "Nope"), None);
        assert_eq!(snmp_field(text, "Tcp", "RcvbufErrors"), None);
    }

    #[test]
    fn finds_a_udp_sockets_drops_by_inode() {
        let text = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n\
  1: 0100007F:A1B2 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 9991        \n\
  2: 0100007F:A1B3 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0           \n";
        assert_eq!(udp_drops_in(text, 4242), Some(9991));
        assert_eq!(udp_drops_in(text, 4243), Some(0));
        assert_eq!(udp_drops_in(text, 42), None);
    }

    #[test]
    fn this_kernel_counts_udp_receive_buffer_errors() {
        snmp("Udp", "RcvbufErrors").unwrap();
    }
}
