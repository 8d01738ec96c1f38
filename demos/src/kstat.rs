//! Counters the kernel keeps about the network stack, as `/proc/net/snmp` shows them.
//!
//! These counters belong to the network namespace, not to one socket: other programs
//! (and other demos running at the same time) add to them too, so a demo compares a
//! delta with a lower bound, never with an exact number.

use anyhow::Context;

use crate::Result;

/// One counter of `/proc/net/snmp`, e.g. `snmp("Udp", "RcvbufErrors")`.
pub fn snmp(protocol: &str, field: &str) -> Result<u64> {
    let text = std::fs::read_to_string("/proc/net/snmp").context("reading /proc/net/snmp")?;
    snmp_field(&text, protocol, field)
        .with_context(|| format!("no {protocol}: {field} counter in /proc/net/snmp"))
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
    fn this_kernel_counts_udp_receive_buffer_errors() {
        snmp("Udp", "RcvbufErrors").unwrap();
    }
}
