//! Line-based text diff with unified output (which GNU `patch` applies), intra-line highlights in the coloured
//! and HTML renderings, and a bytes fallback for input that is not UTF-8.
//!
//! ```
//! use toron_core::diff::text::{text_diff, TextOptions};
//!
//! let d = text_diff(b"a\nb\nc\n", b"a\nB\nc\n", &TextOptions::default());
//! assert_eq!(d.summary(), "1 line added, 1 line removed");
//! assert_eq!(d.unified(3, "old.txt", "new.txt"), "--- old.txt\n+++ new.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
//! ```

use std::fmt::Write as _;
use std::ops::Range;

use hashbrown::hash_table::{Entry, HashTable};
use serde_json::json;
// Why `similar` and not `imara-diff` (evaluated 2026-11 on the 9.4 MB benchmark text, 1 % of lines changed):
// once lines are numbered (`intern`, the larger cost), aligning the numbers took 7-12 ms with similar's Myers
// and 2-4 ms with imara-diff's, out of ~32 ms for `text_diff` + unified output. Switching would save that,
// but would change which of several equally short diffs is printed for ambiguous inputs (imara-diff has its
// own heuristics) and would not remove `similar`, still needed for Patience and the intra-line highlights.
// With the interning fixed, the text diff is well ahead of GNU `diff -u`, so the output stays as it was.
use similar::{Algorithm, DiffOp, DiffTag};

use super::render::{html_escape, no_controls, Format, BOLD, CYAN, GREEN, RED, RESET, REVERSE};

/// The sequence diff algorithm for lines.
///
/// ```
/// use toron_core::diff::text::TextAlgorithm;
/// assert_eq!(TextAlgorithm::default(), TextAlgorithm::Myers);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TextAlgorithm {
    /// Myers' O(ND) algorithm (with `similar`'s bounded-work heuristics), as GNU `diff` uses; the default.
    #[default]
    Myers,
    /// Patience diff: anchors on lines that occur once on each side.
    Patience,
    /// Histogram diff (git's `--histogram`): patience generalised to repeated lines; often more readable
    /// hunks, but its time is less predictable than Myers' on heavily changed files.
    Histogram,
}

/// Options of [`text_diff`].
///
/// ```
/// let o = toron_core::diff::text::TextOptions { algorithm: toron_core::diff::text::TextAlgorithm::Patience };
/// assert_ne!(o, Default::default());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TextOptions {
    /// Which algorithm aligns the lines.
    pub algorithm: TextAlgorithm,
}

/// The result of [`text_diff`].
#[derive(Debug, Clone)]
pub struct TextDiff {
    old: Vec<u8>,
    new: Vec<u8>,
    old_lines: Vec<Range<usize>>,
    new_lines: Vec<Range<usize>>,
    ops: Vec<DiffOp>,
    binary: bool,
}

/// Split after each `\n`; the last line may lack one.
fn split_lines(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::with_capacity(bytes.len() / 40 + 1);
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', bytes) {
        out.push(start..i + 1);
        start = i + 1;
    }
    if start < bytes.len() {
        out.push(start..bytes.len());
    }
    out
}

/// Compare two texts line by line. Input that is not UTF-8 on either side is compared as lines of bytes
/// (split on `\n`) and rendered with `\xNN` escapes; [`TextDiff::is_binary`] says so.
///
/// ```
/// use toron_core::diff::text::{text_diff, TextOptions};
/// let d = text_diff(b"\xff\n", b"\xfe\n", &TextOptions::default());
/// assert!(d.is_binary());
/// assert!(d.render(toron_core::diff::Format::Text).contains("-\\xff"));
/// ```
pub fn text_diff(old: &[u8], new: &[u8], options: &TextOptions) -> TextDiff {
    let binary = std::str::from_utf8(old).is_err() || std::str::from_utf8(new).is_err();
    let old_lines = split_lines(old);
    let new_lines = split_lines(new);
    // Number the distinct lines once, so the alignment compares integers, not strings.
    let (old_ids, new_ids) = intern(old, &old_lines, new, &new_lines);
    let algorithm = match options.algorithm {
        TextAlgorithm::Myers => Algorithm::Myers,
        TextAlgorithm::Patience => Algorithm::Patience,
        TextAlgorithm::Histogram => Algorithm::Histogram,
    };
    let ops = similar::capture_diff_slices(algorithm, &old_ids, &new_ids);
    TextDiff {
        old: old.to_vec(),
        new: new.to_vec(),
        old_lines,
        new_lines,
        ops,
        binary,
    }
}

/// Give equal lines equal numbers: the first distinct line seen (old, then new) is 0, the next 1, and so on.
///
/// The numbers depend only on the texts (the hash table only finds a line seen before; its seed, random per
/// process for foldhash's resistance to crafted collisions, never shows), and the alignment only compares
/// them for equality. A hash table replaced a sort of all the lines (on 10 MB of text, 330k lines a side,
/// the sort and its `memcmp`s were about two thirds of `text_diff`). The table holds only the 4-byte
/// number of each distinct line, not the line: 190k distinct lines fit in about 1 MB, in cache, where a
/// map keyed by the lines themselves took twice as long in cache misses; the line a number stands for is
/// looked up in `first`, which grows in text order, so those reads stay close to sequential.
fn intern<'a>(
    old: &'a [u8],
    old_lines: &[Range<usize>],
    new: &'a [u8],
    new_lines: &[Range<usize>],
) -> (Vec<u32>, Vec<u32>) {
    use std::hash::BuildHasher;
    let state = foldhash::fast::RandomState::default();
    let mut table: HashTable<u32> = HashTable::with_capacity(old_lines.len().max(new_lines.len()));
    let mut first: Vec<&'a [u8]> = Vec::with_capacity(old_lines.len());
    let mut number = |line: &'a [u8]| -> u32 {
        let hash = state.hash_one(line);
        match table.entry(
            hash,
            |&id| first[id as usize] == line,
            |&id| state.hash_one(first[id as usize]),
        ) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let id = first.len() as u32;
                first.push(line);
                e.insert(id);
                id
            }
        }
    };
    let old_ids = old_lines.iter().map(|r| number(&old[r.clone()])).collect();
    let new_ids = new_lines.iter().map(|r| number(&new[r.clone()])).collect();
    (old_ids, new_ids)
}

/// One line of a hunk.
struct Line<'a> {
    tag: char,
    bytes: &'a [u8],
}

impl TextDiff {
    /// True when the texts are equal.
    ///
    /// ```
    /// use toron_core::diff::text::{text_diff, TextOptions};
    /// assert!(text_diff(b"x", b"x", &TextOptions::default()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ops.iter().all(|op| op.tag() == DiffTag::Equal)
    }

    /// True when either side is not UTF-8 and the diff fell back to lines of bytes.
    ///
    /// ```
    /// use toron_core::diff::text::{text_diff, TextOptions};
    /// assert!(!text_diff(b"a", b"b", &TextOptions::default()).is_binary());
    /// ```
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// Lines added and removed.
    ///
    /// ```
    /// use toron_core::diff::text::{text_diff, TextOptions};
    /// assert_eq!(text_diff(b"a\n", b"a\nb\nc\n", &TextOptions::default()).counts(), (2, 0));
    /// ```
    pub fn counts(&self) -> (usize, usize) {
        let mut added = 0;
        let mut removed = 0;
        for op in &self.ops {
            added += op.new_range().len() * usize::from(op.tag() != DiffTag::Equal);
            removed += op.old_range().len() * usize::from(op.tag() != DiffTag::Equal);
        }
        (added, removed)
    }

    /// `N lines added, M lines removed` (with a note for the bytes fallback), or `no differences`.
    ///
    /// ```
    /// use toron_core::diff::text::{text_diff, TextOptions};
    /// assert_eq!(text_diff(b"a", b"a", &TextOptions::default()).summary(), "no differences");
    /// ```
    pub fn summary(&self) -> String {
        let note = if self.binary {
            " (not UTF-8: compared as lines of bytes)"
        } else {
            ""
        };
        if self.is_empty() {
            return format!("no differences{note}");
        }
        let (a, r) = self.counts();
        let plural = |n: usize| if n == 1 { "line" } else { "lines" };
        format!("{a} {} added, {r} {} removed{note}", plural(a), plural(r))
    }

    fn hunks(&self, context: usize) -> Vec<(Range<usize>, Range<usize>, Vec<Line<'_>>)> {
        let mut out = Vec::new();
        if self.is_empty() {
            return out;
        }
        for group in similar::group_diff_ops(self.ops.clone(), context) {
            let (Some(first), Some(last)) = (group.first(), group.last()) else {
                continue;
            };
            let old_range = first.old_range().start..last.old_range().end;
            let new_range = first.new_range().start..last.new_range().end;
            let mut lines = Vec::new();
            for op in &group {
                let (tag, old, new) = op.as_tag_tuple();
                match tag {
                    DiffTag::Equal => lines.extend(old.map(|i| Line {
                        tag: ' ',
                        bytes: &self.old[self.old_lines[i].clone()],
                    })),
                    _ => {
                        lines.extend(old.map(|i| Line {
                            tag: '-',
                            bytes: &self.old[self.old_lines[i].clone()],
                        }));
                        lines.extend(new.map(|j| Line {
                            tag: '+',
                            bytes: &self.new[self.new_lines[j].clone()],
                        }));
                    }
                }
            }
            out.push((old_range, new_range, lines));
        }
        out
    }

    /// The unified diff as bytes, exactly as GNU `diff -u` would write it for these inputs (with
    /// `\ No newline at end of file` markers); `patch` applies it, whatever the encoding.
    ///
    /// ```
    /// use toron_core::diff::text::{text_diff, TextOptions};
    /// let d = text_diff(b"a", b"b", &TextOptions::default());
    /// assert_eq!(
    ///     d.unified_bytes(3, "a", "b"),
    ///     b"--- a\n+++ b\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n"
    /// );
    /// ```
    pub fn unified_bytes(&self, context: usize, old_name: &str, new_name: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let hunks = self.hunks(context);
        if hunks.is_empty() {
            return out;
        }
        out.extend_from_slice(format!("--- {old_name}\n+++ {new_name}\n").as_bytes());
        for (old, new, lines) in hunks {
            out.extend_from_slice(hunk_header(&old, &new).as_bytes());
            out.push(b'\n');
            for line in lines {
                out.push(line.tag as u8);
                out.extend_from_slice(line.bytes);
                if !line.bytes.ends_with(b"\n") {
                    out.extend_from_slice(b"\n\\ No newline at end of file\n");
                }
            }
        }
        out
    }

    /// The unified diff as text. For UTF-8 input this is exactly [`unified_bytes`](Self::unified_bytes); for
    /// the bytes fallback, bytes that are not UTF-8 appear as `\xNN` escapes (use `unified_bytes` to patch).
    ///
    /// ```
    /// use toron_core::diff::text::{text_diff, TextOptions};
    /// let d = text_diff(b"1\n2\n3\n4\n5\n", b"1\n2\n3\n4\n5\n6\n", &TextOptions::default());
    /// assert_eq!(d.unified(1, "a", "b"), "--- a\n+++ b\n@@ -5 +5,2 @@\n 5\n+6\n");
    /// ```
    pub fn unified(&self, context: usize, old_name: &str, new_name: &str) -> String {
        escape_bytes(&self.unified_bytes(context, old_name, new_name))
    }

    /// Render for people or machines: [`Format::Text`] is the unified diff (3 lines of context) after the
    /// summary; [`Format::Color`] adds ANSI colours and highlights the changed part of changed lines;
    /// [`Format::Html`] is a self-contained `<div>` with the same highlights; [`Format::Json`] gives
    /// `summary`, `binary` and the hunks.
    ///
    /// ```
    /// use toron_core::diff::{text::{text_diff, TextOptions}, Format};
    /// let d = text_diff(b"let x = 1;\n", b"let x = 2;\n", &TextOptions::default());
    /// assert!(d.render(Format::Color).contains("\x1b[7m1"));
    /// assert!(d.render(Format::Html).contains("<del"));
    /// ```
    pub fn render(&self, format: Format) -> String {
        let hunks = self.hunks(3);
        let mut out = String::new();
        match format {
            Format::Json => {
                let hunks: Vec<_> = hunks
                    .iter()
                    .map(|(o, n, lines)| {
                        json!({
                            "old_start": o.start + 1, "old_lines": o.len(),
                            "new_start": n.start + 1, "new_lines": n.len(),
                            "lines": lines.iter().map(|l| format!("{}{}", l.tag, escape_bytes(l.bytes))).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                let v = json!({"summary": self.summary(), "binary": self.binary, "hunks": hunks});
                let mut s = crate::canon::to_pretty(&v).unwrap_or_else(|_| v.to_string());
                s.pop();
                s
            }
            Format::Text => {
                let _ = writeln!(out, "{}", self.summary());
                out.push_str(&self.unified(3, "old", "new"));
                out
            }
            Format::Color | Format::Html => {
                let html = format == Format::Html;
                if html {
                    out.push_str(
                        "<div class=\"toron-text-diff\" style=\"font-family:ui-monospace,SFMono-Regular,Menlo,\
                         Consolas,monospace;font-size:13px\">\n",
                    );
                    let _ = writeln!(
                        out,
                        "<p style=\"font-weight:bold;margin:0 0 4px 0\">{}</p>",
                        html_escape(&self.summary())
                    );
                    out.push_str("<pre style=\"margin:0;line-height:1.4\">");
                } else {
                    let _ = writeln!(out, "{BOLD}{}{RESET}", self.summary());
                }
                for (o, n, lines) in &hunks {
                    let header = hunk_header(o, n);
                    if html {
                        let _ = writeln!(out, "<span style=\"color:#0550ae\">{}</span>", html_escape(&header));
                    } else {
                        let _ = writeln!(out, "{CYAN}{header}{RESET}");
                    }
                    let mut k = 0;
                    while k < lines.len() {
                        if lines[k].tag == ' ' {
                            self.line_out(&mut out, html, ' ', &[(false, lines[k].bytes)]);
                            k += 1;
                            continue;
                        }
                        // A run of removed lines then added lines: pair them for intra-line highlights.
                        let dels = lines[k..].iter().take_while(|l| l.tag == '-').count();
                        let adds = lines[k + dels..].iter().take_while(|l| l.tag == '+').count();
                        let (rem, add) = (&lines[k..k + dels], &lines[k + dels..k + dels + adds]);
                        let mut pieces = Vec::with_capacity(dels + adds);
                        for (x, line) in rem.iter().enumerate() {
                            pieces.push((
                                '-',
                                match add.get(x) {
                                    Some(other) if !self.binary => highlight(line.bytes, other.bytes).0,
                                    _ => vec![(false, line.bytes)],
                                },
                            ));
                        }
                        for (x, line) in add.iter().enumerate() {
                            pieces.push((
                                '+',
                                match rem.get(x) {
                                    Some(other) if !self.binary => highlight(other.bytes, line.bytes).1,
                                    _ => vec![(false, line.bytes)],
                                },
                            ));
                        }
                        for (tag, segs) in &pieces {
                            self.line_out(&mut out, html, *tag, segs);
                        }
                        k += dels + adds;
                    }
                }
                if html {
                    out.push_str("</pre>\n</div>\n");
                }
                out
            }
        }
    }

    fn line_out(&self, out: &mut String, html: bool, tag: char, segs: &[(bool, &[u8])]) {
        let missing_newline = segs.last().is_some_and(|(_, b)| !b.ends_with(b"\n"));
        if html {
            let (bg, mark) = match tag {
                '-' => ("#ffebe9", "<del style=\"background:#ffcecb;text-decoration:none\">"),
                '+' => ("#e6ffec", "<ins style=\"background:#aceebb;text-decoration:none\">"),
                _ => ("transparent", ""),
            };
            let close = if tag == '-' { "</del>" } else { "</ins>" };
            let _ = write!(
                out,
                "<span style=\"background:{bg};display:block\">{}",
                html_escape(&tag.to_string())
            );
            for (hi, bytes) in segs {
                let text = html_escape(&escape_bytes(trim_newline(bytes)));
                if *hi && !mark.is_empty() {
                    let _ = write!(out, "{mark}{text}{close}");
                } else {
                    out.push_str(&text);
                }
            }
            out.push_str("</span>");
            if missing_newline {
                out.push_str("<span style=\"color:#6e7781\">\\ No newline at end of file</span>");
            }
        } else {
            let color = match tag {
                '-' => RED,
                '+' => GREEN,
                _ => "",
            };
            let _ = write!(out, "{color}{tag}");
            for (hi, bytes) in segs {
                let text = no_controls(&escape_bytes(trim_newline(bytes)));
                if *hi {
                    let _ = write!(out, "{REVERSE}{text}{RESET}{color}");
                } else {
                    out.push_str(&text);
                }
            }
            if !color.is_empty() {
                out.push_str(RESET);
            }
            out.push('\n');
            if missing_newline {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
}

fn trim_newline(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\n").unwrap_or(b)
}

fn hunk_header(old: &Range<usize>, new: &Range<usize>) -> String {
    fn range(r: &Range<usize>) -> String {
        match r.len() {
            0 => format!("{},0", r.start),
            1 => format!("{}", r.start + 1),
            n => format!("{},{n}", r.start + 1),
        }
    }
    format!("@@ -{} +{} @@", range(old), range(new))
}

/// Lines longer than this are not highlighted within (the character diff would cost too much).
const MAX_HIGHLIGHT: usize = 4000;

type Segments<'a> = Vec<(bool, &'a [u8])>;

/// Split two UTF-8 lines into (changed?, bytes) segments by a character diff.
fn highlight<'a>(old: &'a [u8], new: &'a [u8]) -> (Segments<'a>, Segments<'a>) {
    let (Ok(o), Ok(n)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return (vec![(false, old)], vec![(false, new)]);
    };
    if o.len() > MAX_HIGHLIGHT || n.len() > MAX_HIGHLIGHT {
        return (vec![(false, old)], vec![(false, new)]);
    }
    let oc: Vec<(usize, char)> = o.char_indices().collect();
    let nc: Vec<(usize, char)> = n.char_indices().collect();
    let ochars: Vec<char> = oc.iter().map(|&(_, c)| c).collect();
    let nchars: Vec<char> = nc.iter().map(|&(_, c)| c).collect();
    let byte_at = |idx: &[(usize, char)], total: usize, k: usize| idx.get(k).map_or(total, |&(b, _)| b);
    let mut os = Vec::new();
    let mut ns = Vec::new();
    for op in similar::capture_diff_slices(Algorithm::Myers, &ochars, &nchars) {
        let (tag, orange, nrange) = op.as_tag_tuple();
        let changed = tag != DiffTag::Equal;
        if !orange.is_empty() {
            let (a, b) = (
                byte_at(&oc, old.len(), orange.start),
                byte_at(&oc, old.len(), orange.end),
            );
            os.push((changed, &old[a..b]));
        }
        if !nrange.is_empty() {
            let (a, b) = (
                byte_at(&nc, new.len(), nrange.start),
                byte_at(&nc, new.len(), nrange.end),
            );
            ns.push((changed, &new[a..b]));
        }
    }
    (os, ns)
}

/// UTF-8 text as is; any byte that is not part of valid UTF-8 as `\xNN`.
fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_like_gnu() {
        assert_eq!(hunk_header(&(0..0), &(0..1)), "@@ -0,0 +1 @@");
        assert_eq!(hunk_header(&(4..7), &(4..4)), "@@ -5,3 +4,0 @@");
    }

    #[test]
    fn empty_inputs() {
        let d = text_diff(b"", b"", &TextOptions::default());
        assert!(d.is_empty());
        assert_eq!(d.unified(3, "a", "b"), "");
        let d = text_diff(b"", b"x\n", &TextOptions::default());
        assert_eq!(d.unified(3, "a", "b"), "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
    }

    #[test]
    fn highlights_pair_lines() {
        let (o, n) = highlight(b"abc\n", b"aXc\n");
        assert_eq!(o, [(false, &b"a"[..]), (true, &b"b"[..]), (false, &b"c\n"[..])]);
        assert_eq!(n[1], (true, &b"X"[..]));
    }

    /// Apply a unified diff the way `patch` does (exact positions, no fuzz), for the property below.
    fn apply_unified(old: &[u8], diff: &[u8]) -> Vec<u8> {
        let old_lines: Vec<&[u8]> = split_lines(old).into_iter().map(|r| &old[r]).collect();
        let mut out: Vec<u8> = Vec::new();
        let mut next_old = 0usize; // lines of old copied or consumed so far
        let lines: Vec<&[u8]> = diff.split_inclusive(|&b| b == b'\n').collect();
        let mut k = 2; // skip --- and +++
        let mut last: Option<(u8, usize)> = None; // kind and position in out of the last line written
        while k < lines.len() {
            let l = lines[k];
            if l.starts_with(b"@@ -") {
                let header = std::str::from_utf8(l).unwrap();
                let old_part = header[4..].split(' ').next().unwrap();
                let mut it = old_part.split(',');
                let start: usize = it.next().unwrap().parse().unwrap();
                let count: usize = it.next().map_or(1, |c| c.parse().unwrap());
                let first = if count == 0 { start } else { start - 1 };
                for line in &old_lines[next_old..first] {
                    out.extend_from_slice(line);
                }
                next_old = first;
                last = None;
            } else if l.starts_with(b"\\ No newline") {
                // The previous line had no newline: drop the one we wrote.
                if let Some((kind, _)) = last {
                    if kind != b'-' {
                        assert_eq!(out.pop(), Some(b'\n'));
                    }
                }
            } else {
                match l[0] {
                    b' ' => {
                        out.extend_from_slice(&l[1..]);
                        next_old += 1;
                        last = Some((b' ', out.len()));
                    }
                    b'-' => {
                        next_old += 1;
                        last = Some((b'-', out.len()));
                    }
                    b'+' => {
                        out.extend_from_slice(&l[1..]);
                        last = Some((b'+', out.len()));
                    }
                    other => panic!("unexpected line start {other}"),
                }
            }
            k += 1;
        }
        for line in &old_lines[next_old..] {
            out.extend_from_slice(line);
        }
        out
    }

    fn lines_strategy() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        (prop::collection::vec(
            prop_oneof![
                Just(&b"a\n"[..]),
                Just(&b"b\n"[..]),
                Just(&b"c"[..]),
                Just(&b"\xff\n"[..]),
                Just(&b"\n"[..])
            ],
            0..30,
        ))
        .prop_map(|parts| parts.concat())
    }

    proptest::proptest! {
        #[test]
        fn unified_reproduces_new(old in lines_strategy(), new in lines_strategy(), context in 0usize..4) {
            for algorithm in [TextAlgorithm::Myers, TextAlgorithm::Patience, TextAlgorithm::Histogram] {
                let d = text_diff(&old, &new, &TextOptions { algorithm });
                let unified = d.unified_bytes(context, "a", "b");
                if old == new {
                    proptest::prop_assert!(unified.is_empty());
                } else {
                    proptest::prop_assert_eq!(apply_unified(&old, &unified), new.clone());
                }
                for f in Format::ALL {
                    let _ = d.render(*f);
                }
            }
        }
    }
}
