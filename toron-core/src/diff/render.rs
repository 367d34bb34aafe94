//! Renderings of diffs for people (plain and coloured terminal text, HTML) and machines (JSON).

use std::fmt::Write as _;
use std::str::FromStr;

use serde_json::Value;

use super::{Diff, OpKind};
use crate::{Error, ErrorKind};

/// How to render a diff.
///
/// ```
/// use toron_core::diff::Format;
/// assert_eq!("html".parse::<Format>()?, Format::Html);
/// assert_eq!(Format::Color.name(), "color");
/// assert!("xml".parse::<Format>().is_err());
/// # Ok::<(), toron_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Plain text, one line per change.
    Text,
    /// Text with ANSI colours for a terminal.
    Color,
    /// A self-contained HTML fragment (inline styles, values escaped) for reports.
    Html,
    /// JSON for machines.
    Json,
}

impl Format {
    /// Every format.
    pub const ALL: &'static [Format] = &[Format::Text, Format::Color, Format::Html, Format::Json];

    /// The name used on every surface: `text`, `color`, `html`, `json`.
    ///
    /// ```
    /// assert_eq!(toron_core::diff::Format::Json.name(), "json");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Color => "color",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Format::ALL.iter().copied().find(|f| f.name() == s).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown format {s:?} (expected text, color, html or json)"),
            )
            .with_field("format")
        })
    }
}

pub(crate) const RED: &str = "\x1b[31m";
pub(crate) const GREEN: &str = "\x1b[32m";
pub(crate) const YELLOW: &str = "\x1b[33m";
pub(crate) const CYAN: &str = "\x1b[36m";
pub(crate) const BOLD: &str = "\x1b[1m";
pub(crate) const REVERSE: &str = "\x1b[7m";
pub(crate) const RESET: &str = "\x1b[0m";

/// HTML-escape text (`&`, `<`, `>`, `"`, `'`).
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Replace terminal control characters so a value cannot inject escapes into a coloured rendering.
pub(crate) fn no_controls(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

const MAX_VALUE_CHARS: usize = 200;

/// A value on one line, shortened past 200 characters.
fn show(v: &Value) -> String {
    let s = crate::canon::canonical_string(v).unwrap_or_else(|_| v.to_string());
    if s.chars().count() <= MAX_VALUE_CHARS {
        return s;
    }
    let cut: String = s.chars().take(MAX_VALUE_CHARS).collect();
    format!("{cut}... ({} bytes)", s.len())
}

fn show_path(p: &str) -> &str {
    if p.is_empty() {
        "(root)"
    } else {
        p
    }
}

pub(crate) const COARSE_NOTE: &str =
    "note: the operation budget ran out; this diff is coarse (whole subtrees replaced where they differ)";

pub(crate) fn render_ops(diff: &Diff, format: Format) -> String {
    let mut out = String::new();
    let html = format == Format::Html;
    let color = format == Format::Color;
    if html {
        out.push_str(
            "<div class=\"toron-diff\" style=\"font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;\
             font-size:13px;line-height:1.5\">\n",
        );
        let _ = writeln!(
            out,
            "<p style=\"font-weight:bold;margin:0 0 4px 0\">{}</p>",
            html_escape(&diff.summary())
        );
        if diff.is_coarse() {
            let _ = writeln!(
                out,
                "<p style=\"color:#9a6700;margin:0 0 4px 0\">{}</p>",
                html_escape(COARSE_NOTE)
            );
        }
        if !diff.ops().is_empty() {
            out.push_str("<ul style=\"list-style:none;margin:0;padding:0\">\n");
        }
    } else {
        if color {
            let _ = writeln!(out, "{BOLD}{}{RESET}", diff.summary());
        } else {
            let _ = writeln!(out, "{}", diff.summary());
        }
        if diff.is_coarse() {
            let _ = writeln!(out, "{}", COARSE_NOTE);
        }
    }
    for op in diff.ops() {
        let path = show_path(&op.path);
        let old = op.old.as_ref().map(show).unwrap_or_default();
        let new = op.value.as_ref().map(show).unwrap_or_default();
        let from = op.from.as_deref().map(show_path).unwrap_or_default();
        if html {
            let (sym, bg) = match op.kind {
                OpKind::Add => ("+", "#e6ffec"),
                OpKind::Remove => ("-", "#ffebe9"),
                OpKind::Replace => ("~", "#fff8c5"),
                OpKind::Move => (">", "#ddf4ff"),
            };
            let del = "<del style=\"background:#ffcecb;text-decoration:line-through\">";
            let ins = "<ins style=\"background:#aceebb;text-decoration:none\">";
            let body = match op.kind {
                OpKind::Add => format!("{ins}{}</ins>", html_escape(&new)),
                OpKind::Remove => format!("{del}{}</del>", html_escape(&old)),
                OpKind::Replace => format!(
                    "{del}{}</del> &rarr; {ins}{}</ins>",
                    html_escape(&old),
                    html_escape(&new)
                ),
                OpKind::Move => format!("moved from <code>{}</code>", html_escape(from)),
            };
            let _ = writeln!(
                out,
                "<li style=\"background:{bg};padding:1px 6px;white-space:pre-wrap\">{sym} <code>{}</code>: {body}</li>",
                html_escape(path)
            );
        } else if color {
            let (path, old, new, from) = (
                no_controls(path),
                no_controls(&old),
                no_controls(&new),
                no_controls(from),
            );
            let _ = match op.kind {
                OpKind::Add => writeln!(out, "{GREEN}+ {path}: {new}{RESET}"),
                OpKind::Remove => writeln!(out, "{RED}- {path}: {old}{RESET}"),
                OpKind::Replace => writeln!(out, "{YELLOW}~ {path}:{RESET} {RED}{old}{RESET} -> {GREEN}{new}{RESET}"),
                OpKind::Move => writeln!(out, "{CYAN}> {path}: moved from {from}{RESET}"),
            };
        } else {
            let _ = match op.kind {
                OpKind::Add => writeln!(out, "+ {path}: {new}"),
                OpKind::Remove => writeln!(out, "- {path}: {old}"),
                OpKind::Replace => writeln!(out, "~ {path}: {old} -> {new}"),
                OpKind::Move => writeln!(out, "> {path}: moved from {from}"),
            };
        }
    }
    if html {
        if !diff.ops().is_empty() {
            out.push_str("</ul>\n");
        }
        out.push_str("</div>\n");
    }
    out
}
