//! Scrubbing a stream of any size in bounded memory.
//!
//! The input is read in chunks and scrubbed up to the last complete line; the rest is carried into the next
//! round, so every finding is seen whole. A line longer than `max_line` is cut at a blank at least
//! `overlap` bytes before the end of what is held (a finding that starts before the cut but reaches past it
//! is still taken whole, and the cut moves to its end). A private key BEGIN line without its END holds the
//! cut before it, up to [`PEM_MAX`](super::detect::pem::PEM_MAX) bytes of block. Each round is scanned with
//! `lookbehind` bytes already written before it, so the detectors see the same context they would in the
//! whole text; candidates whose evidence starts there were decided in the round before.

use super::detect::pem::PEM_MAX;
use super::{Cursor, Finding, Scrubber};
use crate::{Error, Result};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::path::Path;

/// What a stream held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamStats {
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Lines read (newlines, plus one for a last line without one).
    pub lines: u64,
    /// Findings (each also given to the callback).
    pub findings: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) chunk: usize,
    pub(crate) max_line: usize,
    pub(crate) overlap: usize,
    pub(crate) lookbehind: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            chunk: 256 * 1024,
            max_line: 1024 * 1024,
            overlap: 8 * 1024,
            lookbehind: 256,
        }
    }
}

fn io_err(e: &std::io::Error, what: &str) -> Error {
    Error::io(e, Path::new(what))
}

pub(crate) fn run(
    s: &Scrubber,
    mut reader: impl Read,
    mut writer: impl Write,
    on_finding: &mut dyn FnMut(&Finding),
    limits: Limits,
) -> Result<StreamStats> {
    let mut stats = StreamStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(limits.chunk * 2);
    // buf[..lb] was written already (context only); buf[lb..] is pending.
    let mut lb = 0usize;
    // Absolute stream offset of buf[0].
    let mut base = 0usize;
    let mut cursor = Cursor::new();
    let mut eof = false;
    let mut need_more = false;
    let mut last_byte = b'\n';
    loop {
        if !eof && (need_more || buf.len() - lb < limits.chunk) {
            let old = buf.len();
            buf.resize(old + limits.chunk, 0);
            let n = loop {
                match reader.read(&mut buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == IoKind::Interrupted => continue,
                    Err(e) => {
                        buf.truncate(old);
                        return Err(io_err(&e, "<input>"));
                    }
                }
            };
            buf.truncate(old + n);
            if n == 0 {
                eof = true;
            } else {
                stats.bytes_in += n as u64;
                stats.lines += memchr::memchr_iter(b'\n', &buf[old..]).count() as u64;
                last_byte = buf[buf.len() - 1];
                need_more = false;
                if buf.len() - lb < limits.chunk {
                    continue;
                }
            }
        }
        if buf.len() == lb {
            break;
        }
        let held = buf.len() - lb;
        let mut cut = if eof {
            buf.len()
        } else if let Some(i) = memchr::memrchr(b'\n', &buf[lb..]) {
            lb + i + 1
        } else if held < limits.max_line {
            need_more = true;
            continue;
        } else {
            let limit = buf.len().saturating_sub(limits.overlap).max(lb + 1);
            match buf[lb..limit].iter().rposition(|b| b.is_ascii_whitespace()) {
                Some(i) => lb + i + 1,
                None => limit,
            }
        };
        let (cands, open) = s.find(&buf);
        if let Some(o) = open {
            if !eof && o >= lb && o < cut && buf.len() - o <= PEM_MAX + limits.max_line {
                cut = o;
            }
        }
        if cut <= lb {
            need_more = true;
            continue;
        }
        let mut pos = lb;
        let mut end = cut;
        for c in cands.iter().filter(|c| c.ctx >= lb && c.start >= lb) {
            if c.ctx >= end {
                continue;
            }
            cursor.advance(&buf[pos..c.start]);
            let placeholder = s.placeholder_of(c.kind, &buf[c.start..c.end]);
            let f = Finding {
                kind: c.kind,
                location: cursor.location(),
                placeholder,
                span: base + c.start..base + c.end,
            };
            write(&mut writer, &buf[pos..c.start], &mut stats)?;
            write(&mut writer, f.placeholder.as_bytes(), &mut stats)?;
            cursor.advance(&buf[c.start..c.end]);
            pos = c.end;
            end = end.max(c.end);
            stats.findings += 1;
            on_finding(&f);
        }
        write(&mut writer, &buf[pos..end], &mut stats)?;
        cursor.advance(&buf[pos..end]);
        // Keep a little of what was written as the next round's context.
        let mut keep = end.saturating_sub(limits.lookbehind);
        while keep > 0 && keep < end && (buf[keep] & 0xC0) == 0x80 {
            keep -= 1;
        }
        buf.drain(..keep);
        base += keep;
        lb = end - keep;
    }
    if stats.bytes_in > 0 && last_byte != b'\n' {
        stats.lines += 1;
    }
    writer.flush().map_err(|e| io_err(&e, "<output>"))?;
    Ok(stats)
}

fn write(w: &mut impl Write, bytes: &[u8], stats: &mut StreamStats) -> Result<()> {
    w.write_all(bytes).map_err(|e| io_err(&e, "<output>"))?;
    stats.bytes_out += bytes.len() as u64;
    Ok(())
}
