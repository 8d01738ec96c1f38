//! Loopback datagrams arrive in order when nothing else is sending.
fn main() {}
