//! Well-known ports are just names in a text file: /etc/services says http is 80, ssh 22 and postgresql 5432, and getservbyname() reads the same file.
//!
//! services(5): "services is a plain ASCII file providing a mapping between
//! human-friendly textual names for internet services, and their underlying assigned
//! port numbers and protocol types. Every networking program should look into this file
//! to get the port number (and protocol) for its service." getservbyname(3) answers
//! from it (through nsswitch.conf's `services:` line). Put internal services there too.

use std::ffi::CString;

use anyhow::Context;
use demos::{Break, Result, brk};

const BREAKS: &[Break] = &[
    brk(
        "http-8080",
        "the demo reads a copy of the file in which http is 8080",
    ),
    brk(
        "asks-udp",
        "libc is asked for the names' \"udp\" entries, not \"tcp\"",
    ),
    brk(
        "no-ntohs",
        "libc's s_port is read as is, not from network byte order",
    ),
];

/// One line of /etc/services: `name port/protocol [aliases...] [# comment]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Service {
    name: String,
    port: u16,
    protocol: String,
    aliases: Vec<String>,
}

fn parse_services(text: &str) -> Vec<Service> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next()?;
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let (port, protocol) = words.next()?.split_once('/')?;
            Some(Service {
                name: name.into(),
                port: port.parse().ok()?,
                protocol: protocol.into(),
                aliases: words.map(str::to_owned).collect(),
            })
        })
        .collect()
}

/// getservbyname(3): the port libc finds for a service name (or alias), if any.
/// `raw`: take s_port as it is, without ntohs (the break).
fn getservbyname(name: &str, protocol: &str, raw: bool) -> Result<Option<u16>> {
    let name = CString::new(name).context("service name")?;
    let protocol = CString::new(protocol).context("protocol name")?;
    // SAFETY: both arguments are valid C strings; the result points into libc's static
    // storage, which we read at once, on the only thread that calls it.
    let entry = unsafe { libc::getservbyname(name.as_ptr(), protocol.as_ptr()) };
    if entry.is_null() {
        return Ok(None);
    }
    // SAFETY: a non-null result is a valid servent; s_port is in network byte order.
    let port = unsafe { (*entry).s_port } as u16;
    Ok(Some(if raw { port } else { u16::from_be(port) }))
}

/// The `services:` line of /etc/nsswitch.conf: where getservbyname looks.
fn nsswitch_services() -> String {
    std::fs::read_to_string("/etc/nsswitch.conf")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.trim_start().starts_with("services:"))
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "services: (no nsswitch.conf line: glibc uses files)".into())
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("http is 80, ssh 22, postgresql 5432: in /etc/services, and getservbyname agrees");
        let text = match std::fs::read_to_string("/etc/services") {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(d.skip(
                    "no /etc/services on this machine (Debian's netbase package provides it)",
                ));
            }
            Err(e) => return Err(e).context("reading /etc/services"),
        };

        let text = if d.breaks("http-8080") {
            text.lines()
                .map(|l| {
                    if l.split_whitespace().next() == Some("http") {
                        l.replace("80/", "8080/")
                    } else {
                        l.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            text
        };
        let services = parse_services(&text);
        d.step(format_args!(
            "read /etc/services: {} entries (name, port/protocol, aliases)",
            services.len()
        ));
        let wanted = [("http", 80u16), ("ssh", 22), ("postgresql", 5432)];
        let mut all_found = true;
        for (name, port) in wanted {
            let found = services
                .iter()
                .find(|s| s.name == name && s.protocol == "tcp");
            match found {
                Some(s) => d.key_said_by(
                    "/etc/services",
                    format_args!(
                        "{:<11} {}/{}{}",
                        s.name,
                        s.port,
                        s.protocol,
                        if s.aliases.is_empty() {
                            String::new()
                        } else {
                            format!("   aliases: {}", s.aliases.join(" "))
                        }
                    ),
                ),
                None => d.said_by("/etc/services", format_args!("{name}: not in the file")),
            }
            all_found &= found.is_some_and(|s| s.port == port);
        }
        d.metric("services.entries", services.len() as f64, "entries");
        d.check(
            all_found,
            "the file names the well-known ports: 80, 22, 5432",
        )?;

        d.step("ask libc: getservbyname(NAME, \"tcp\") for names and aliases");
        let protocol = if d.breaks("asks-udp") { "udp" } else { "tcp" };
        let raw = d.breaks("no-ntohs");
        let mut agree = true;
        let mut answers = Vec::new();
        for s in services
            .iter()
            .filter(|s| s.protocol == "tcp" && wanted.iter().any(|(n, _)| *n == s.name))
        {
            for name in std::iter::once(&s.name).chain(&s.aliases) {
                let port = getservbyname(name, protocol, raw)?;
                answers.push(format!(
                    "{name} {}",
                    port.map_or("-".to_string(), |p| p.to_string())
                ));
                agree &= port == Some(s.port);
            }
        }
        d.said_by("glibc getservbyname", answers.join(", "));
        if d.verbose() {
            d.said_by("/etc/nsswitch.conf", nsswitch_services());
        }
        d.check(
            agree && !answers.is_empty(),
            "libc's answers are the file's, aliases included: a name, not a magic number",
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_ports_and_aliases() {
        let text = "# comment\n\nhttp\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\nssh 22/tcp\n";
        let s = parse_services(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "http");
        assert_eq!((s[0].port, s[0].protocol.as_str()), (80, "tcp"));
        assert_eq!(s[0].aliases, ["www"]);
        assert!(s[1].aliases.is_empty());
    }
}
