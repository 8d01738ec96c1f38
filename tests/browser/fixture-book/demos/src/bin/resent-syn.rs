//! A SYN nobody answers is sent again a second later: a run whose focus lines fill a slide, then give way to its ladder.
// A fixture for the browser tests: only this file's first line (the claim) and its
// captured transcript in ../../transcripts are read; it is never compiled.
