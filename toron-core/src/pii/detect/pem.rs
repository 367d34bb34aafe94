//! PEM private key blocks, BEGIN line to END line, whether the lines are real newlines or `\n` escapes in a
//! JSON string or log line. PUBLIC KEY and CERTIFICATE blocks are not private and are left alone.

use super::Candidate;
use crate::pii::Kind;
use memchr::memmem;

/// The longest block looked for an END line in (bytes after the BEGIN line). A stream holds an open block
/// up to this many bytes while waiting for its END.
pub(crate) const PEM_MAX: usize = 64 * 1024;

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

/// The label of a private key BEGIN line at `at` (`RSA PRIVATE KEY`, `PRIVATE KEY`, `OPENSSH PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`...) and where the line's dashes end.
fn private_label(text: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let ls = at + BEGIN.len();
    let rest = &text[ls..text.len().min(ls + 64)];
    let n = memmem::find(rest, DASHES)?;
    let label = &rest[..n];
    let ok = label
        .iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b' ')
        && (label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK"));
    ok.then_some((label, ls + n + DASHES.len()))
}

fn is_body(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/=\r\n\\".contains(&b)
}

/// Push a candidate for every private key block of `text`. A block whose END is not within [`PEM_MAX`]
/// covers the BEGIN line and the base64 body after it (everything up to the first byte that cannot be in a
/// body), so nothing of the key is left. Returns the start of the last such open block, for a stream that
/// would rather wait for more input.
pub(crate) fn find(text: &[u8], out: &mut Vec<Candidate>) -> Option<usize> {
    let mut open = None;
    let mut from = 0;
    let finder = memmem::Finder::new(BEGIN);
    while let Some(p) = finder.find(&text[from..]) {
        let at = from + p;
        let Some((label, body)) = private_label(text, at) else {
            from = at + BEGIN.len();
            continue;
        };
        let mut end_line = Vec::with_capacity(label.len() + 14);
        end_line.extend_from_slice(b"-----END ");
        end_line.extend_from_slice(label);
        end_line.extend_from_slice(DASHES);
        let window = &text[body..text.len().min(body + PEM_MAX)];
        let end = match memmem::find(window, &end_line) {
            Some(e) => body + e + end_line.len(),
            None => {
                open = Some(at);
                let mut e = body;
                while e < text.len() && is_body(text[e]) {
                    e += 1;
                }
                e
            }
        };
        out.push(Candidate {
            kind: Kind::PrivateKey,
            start: at,
            end,
            ctx: at,
        });
        from = end;
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        let t = b"x -----BEGIN RSA PRIVATE KEY-----\nMIIB\nabc=\n-----END RSA PRIVATE KEY----- y";
        let mut out = Vec::new();
        assert_eq!(find(t, &mut out), None);
        assert_eq!((out[0].start, out[0].end), (2, t.len() - 2));
        let t = b"-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----";
        out.clear();
        find(t, &mut out);
        assert!(out.is_empty());
        let t = b"k=-----BEGIN PRIVATE KEY-----\\nMIIBabc\\nzz== next";
        out.clear();
        assert_eq!(find(t, &mut out), Some(2));
        assert_eq!(
            &t[out[0].start..out[0].end],
            &b"-----BEGIN PRIVATE KEY-----\\nMIIBabc\\nzz=="[..]
        );
    }
}
