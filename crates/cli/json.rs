//! JSON output that is safe to print on a terminal. serde_json escapes the C0 controls
//! (ESC included) but writes DEL, the C1 controls (U+0080..U+009F; U+009B is a CSI on
//! terminals that honour 8-bit controls) and the bidirectional overrides (U+202E turns the
//! rest of a line around: "Trojan source") raw. Column names and values come from data a
//! user may not control, so these are written as `\uXXXX` escapes too: the same JSON value
//! for every parser, and nothing on a terminal that changes what the rest of it shows.

use std::io::{self, Write};

use serde_json::ser::{Formatter, PrettyFormatter};

use crate::display::is_unsafe;

/// serde_json's pretty printer, with every character [`is_unsafe`] calls unsafe escaped
/// (serde_json itself escapes the C0 controls before a fragment reaches this).
pub struct TerminalSafe(PrettyFormatter<'static>);

impl TerminalSafe {
    pub fn new() -> Self {
        Self(PrettyFormatter::new())
    }
}

impl Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if is_unsafe(ch) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", u32::from(ch))?;
                start = i + ch.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty(v: &serde_json::Value) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, TerminalSafe::new());
        serde::Serialize::serialize(v, &mut ser).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn bidi_overrides_and_c1_controls_are_escaped_and_read_back_unchanged() {
        let v = serde_json::json!({"rtl\u{202e}gnp.exe": ["\u{9b}31m", "\u{7f}", "\u{1b}[2J", "plain é"]});
        let text = pretty(&v);
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text}");
        assert!(
            text.contains("rtl\\u202egnp.exe") && text.contains("\\u009b31m"),
            "{text}"
        );
        assert!(
            text.contains("plain é"),
            "other characters stay as they are: {text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, v);
    }

    #[test]
    fn layout_is_serde_json_pretty() {
        let v = serde_json::json!({"a": [1, {"b": null}], "c": "d", "e": []});
        assert_eq!(
            pretty(&v),
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
    }
}
