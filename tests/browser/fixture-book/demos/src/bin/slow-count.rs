//! Counting takes time: one line every 80 ms, forty lines.
// A fixture for the browser tests: only this file's first line (the claim) and its
// captured transcript in ../../transcripts are read; it is never compiled.
