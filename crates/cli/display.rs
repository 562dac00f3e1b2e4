//! Text for people: what reaches a terminal never carries the data's control characters.
//!
//! Column names, cell values and file names come from the data, and data can hold escape
//! sequences (`ESC [ 2 J` clears the screen, OSC 8 makes links), bidi overrides (U+202E
//! shows `exe.txt` as `txt.exe`) and newlines (a column name that splits an error line in
//! two). [`escape`] turns each such character into a visible escape (`\u{1b}`, `\n`);
//! [`value`] also quotes a value whose blanks would be invisible (`"Biscoe "`).
//! [`Escaping`] applies [`escape`] to a whole text stream (the terminal tables), so a cell
//! that a command forgot to escape still cannot reach the terminal raw. JSON writes the
//! same characters as `\uXXXX` escapes ([`crate::json`]): a JSON reader gets the value.

use std::borrow::Cow;
use std::io::{self, Write};

/// Whether `c` must not reach a terminal raw: C0 controls (newline and tab included: in
/// a table cell or an error line they break the layout), DEL, C1 controls, and the
/// invisible direction marks and overrides (U+200E/F, U+202A-U+202E, U+2066-U+2069).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` with every unsafe character (see [`is_unsafe`]) written as a visible escape:
/// `\n`, `\r`, `\t`, or `\u{1b}` (Rust's notation). Borrowed when there is none.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_where(s, is_unsafe)
}

/// [`escape`] for a multi-line document (an HTML page): line breaks and tabs stay.
pub fn escape_keeping_lines(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t'))
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A value from the data as a person must see it: as is when that is unambiguous, else
/// in double quotes with control characters escaped: `"Biscoe "` (a trailing blank),
/// `""` (the empty string), `"a\nb"`, `"\"x\""`. Blanks at either end include every
/// Unicode white space (a no-break space looks like a space) and zero-width characters.
pub fn value(s: &str) -> Cow<'_, str> {
    let invisible = |c: char| {
        c.is_whitespace() || matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}')
    };
    let needs_quotes = s.is_empty()
        || s.starts_with(invisible)
        || s.ends_with(invisible)
        || s.starts_with('"')
        || s.chars().any(is_unsafe);
    if !needs_quotes {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 4);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// An error or message line: one line, every control character escaped. Line breaks that
/// are structure become `: ` or `; `: DataFusion's `caused by` chains, a blank line
/// between parts, an indented continuation, a new sentence (`...named x.\nValid fields
/// are ...`). A newline inside backticks or double quotes, or before a lower-case word,
/// is the data's (a column name `first\nsecond`) and stays visible as `\n`.
pub fn one_line(s: &str) -> String {
    let s = s.trim_end_matches(['\n', '\r']);
    let s = s.replace("\ncaused by\n", ": caused by: ");
    let mut joined = String::with_capacity(s.len());
    let mut quoted = (false, false);
    let mut lines = s.split('\n').peekable();
    while let Some(line) = lines.next() {
        joined.push_str(line);
        for c in line.chars() {
            match c {
                '`' => quoted.0 = !quoted.0,
                '"' => quoted.1 = !quoted.1,
                _ => {}
            }
        }
        let Some(next) = lines.peek() else { break };
        let structure = !(quoted.0 || quoted.1)
            && (line.trim().is_empty()
                || next.trim().is_empty()
                || next.starts_with([' ', '\t'])
                || next.starts_with(|c: char| c.is_uppercase()));
        if !structure {
            joined.push('\n');
            continue;
        }
        while lines.peek().is_some_and(|l| l.trim().is_empty()) {
            lines.next();
        }
        if let Some(next) = lines.peek_mut() {
            *next = next.trim_start();
            let joined_trimmed = joined.trim_end().len();
            joined.truncate(joined_trimmed);
            if !joined.is_empty() && !joined.ends_with([':', ';', '.']) {
                joined.push(';');
            }
            joined.push(' ');
        }
    }
    escape(&joined).into_owned()
}

/// A writer that applies [`escape`] to everything written through it except line breaks
/// (the table's own rows), for text meant for a terminal. Bytes that are not UTF-8 are
/// written as `\x9b` (a lone 0x9b is the C1 control CSI to some terminals).
pub struct Escaping<'a> {
    inner: &'a mut dyn Write,
    /// An incomplete UTF-8 sequence at the end of the last write.
    pending: Vec<u8>,
}

impl<'a> Escaping<'a> {
    pub fn new(inner: &'a mut dyn Write) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    fn write_str(&mut self, s: &str) -> io::Result<()> {
        let mut start = 0;
        let mut out = String::new();
        for (i, c) in s.char_indices() {
            if c != '\n' && is_unsafe(c) {
                out.push_str(&s[start..i]);
                push_escaped(&mut out, c);
                start = i + c.len_utf8();
            }
        }
        if out.is_empty() {
            return self.inner.write_all(s.as_bytes());
        }
        out.push_str(&s[start..]);
        self.inner.write_all(out.as_bytes())
    }

    /// Escape and pass on the complete part of `bytes`; keep an incomplete last character
    /// unless `last`.
    fn process(&mut self, bytes: &[u8], last: bool) -> io::Result<()> {
        let mut rest = bytes;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => return self.write_str(s),
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    // The prefix is valid UTF-8 by construction.
                    self.write_str(std::str::from_utf8(good).unwrap_or_default())?;
                    match e.error_len() {
                        Some(n) => {
                            for b in &bad[..n] {
                                write!(self.inner, "\\x{b:02x}")?;
                            }
                            rest = &bad[n..];
                        }
                        None if !last => {
                            self.pending.extend_from_slice(bad);
                            return Ok(());
                        }
                        None => {
                            for b in bad {
                                write!(self.inner, "\\x{b:02x}")?;
                            }
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
}

impl Write for Escaping<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(buf);
        self.process(&bytes, false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let bytes = std::mem::take(&mut self.pending);
        self.process(&bytes, true)?;
        self.inner.flush()
    }
}

impl Drop for Escaping<'_> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let bytes = std::mem::take(&mut self.pending);
            let _ = self.process(&bytes, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(escape("plain é"), "plain é");
        assert_eq!(escape("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape("x\ny\tz\r"), "x\\ny\\tz\\r");
        assert_eq!(escape("\u{202e}cod.exe"), "\\u{202e}cod.exe");
        assert_eq!(
            escape("\u{9b}\u{7f}\u{2066}\u{200f}"),
            "\\u{9b}\\u{7f}\\u{2066}\\u{200f}"
        );
    }

    #[test]
    fn values_with_invisible_blanks_are_quoted() {
        assert_eq!(value("Biscoe"), "Biscoe");
        assert_eq!(value("Biscoe "), "\"Biscoe \"");
        assert_eq!(value(" Biscoe"), "\" Biscoe\"");
        assert_eq!(value("a b"), "a b");
        assert_eq!(value(""), "\"\"");
        assert_eq!(value("x\u{a0}"), "\"x\u{a0}\"");
        assert_eq!(value("a\nb"), "\"a\\nb\"");
        assert_eq!(value("\"q\""), "\"\\\"q\\\"\"");
    }

    #[test]
    fn one_line_joins_structure_and_escapes_the_rest() {
        assert_eq!(
            one_line("SQL error\ncaused by\nSchema error: no field `x`"),
            "SQL error: caused by: Schema error: no field `x`"
        );
        assert_eq!(one_line("a\n\n  b\n"), "a; b");
        assert_eq!(
            one_line("Schema error: No field named nosuch.\nValid fields are data.a."),
            "Schema error: No field named nosuch. Valid fields are data.a."
        );
        assert_eq!(
            one_line("columns: a, first\nsecond"),
            "columns: a, first\\nsecond"
        );
        assert_eq!(
            one_line("column `X\nY` is missing"),
            "column `X\\nY` is missing"
        );
        assert_eq!(
            one_line("column `a\nb` is missing"),
            "column `a\\nb` is missing"
        );
        assert_eq!(one_line("x\u{1b}[2J"), "x\\u{1b}[2J");
    }

    #[test]
    fn escaping_writer_keeps_newlines_and_split_characters() {
        let mut out = Vec::new();
        {
            let mut w = Escaping::new(&mut out);
            let s = "a\u{1b}b\n\u{202e}é\n".as_bytes();
            // Byte by byte: multi-byte characters arrive split across writes.
            for b in s {
                w.write_all(&[*b]).unwrap();
            }
            w.write_all(&[0x9b, b'\n']).unwrap();
            w.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\u{1b}b\n\\u{202e}é\n\\x9b\n"
        );
    }
}
