//! The demo catalogue, as the preprocessor and xtask use it: defined once in the
//! transcript crate (which capture, the server and the tests share), re-exported here.

pub use contract::catalog::*;
