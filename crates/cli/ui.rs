//! What the binary says besides its results: notes and warnings on stderr, progress, and
//! colour.
//!
//! - `-q`/`--quiet` silences notes, warnings and progress; errors still print.
//! - `-v`/`--verbose` adds how long the run took and its peak memory.
//! - Colour follows `--color auto|always|never`; `auto` colours a stream that is a
//!   terminal, unless `NO_COLOR` is set (<https://no-color.org>). Only verdicts and
//!   severities are coloured, and only in text that was already escaped, so data can never
//!   inject a sequence of its own.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    Always,
    Never,
}

static QUIET: AtomicBool = AtomicBool::new(false);
static VERBOSE: AtomicBool = AtomicBool::new(false);
static COLOR: AtomicU8 = AtomicU8::new(0);

/// Set once, from the global flags, before the command runs.
pub fn init(quiet: bool, verbose: bool, color: ColorChoice) {
    QUIET.store(quiet, Ordering::Relaxed);
    VERBOSE.store(verbose && !quiet, Ordering::Relaxed);
    COLOR.store(color as u8, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Whether to colour a stream, given whether it is a terminal.
fn color_for(terminal: bool) -> bool {
    match COLOR.load(Ordering::Relaxed) {
        x if x == ColorChoice::Always as u8 => true,
        x if x == ColorChoice::Never as u8 => false,
        _ => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

pub fn color_stdout() -> bool {
    color_for(std::io::stdout().is_terminal())
}

pub fn color_stderr() -> bool {
    color_for(std::io::stderr().is_terminal())
}

/// A line for the user on stderr (`wrote report.html`), unless `-q`.
pub fn note(msg: &str) {
    if !quiet() {
        let _ = writeln!(std::io::stderr(), "{}", crate::display::escape(msg));
    }
}

/// `warning: ...` on stderr, unless `-q`.
pub fn warn(msg: &str) {
    if !quiet() {
        let head = paint("warning:", YELLOW, color_stderr());
        let _ = writeln!(std::io::stderr(), "{head} {}", crate::display::escape(msg));
    }
}

/// [`warn`], once per message in a run: a command that opens its inputs twice warns
/// about them once.
pub fn warn_once(msg: &str) {
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !said.iter().any(|m| m == msg) {
        said.push(msg.to_string());
        warn(msg);
    }
}

/// `info: ...` on stderr with `-v`.
pub fn info(msg: &str) {
    if verbose() {
        let _ = writeln!(std::io::stderr(), "info: {}", crate::display::escape(msg));
    }
}

/// The process's peak resident memory in bytes, where the system says (Linux).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub const RED: &str = "\x1b[1;31m";
pub const YELLOW: &str = "\x1b[1;33m";
pub const GREEN: &str = "\x1b[1;32m";
const RESET: &str = "\x1b[0m";

/// `text` in `style` when `on`.
pub fn paint(text: &str, style: &str, on: bool) -> String {
    if on {
        format!("{style}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// Colours one line of a command's text output: a leading `error:`, `warning:` or `ok:`
/// (the check lists), and the verdict word after `: ` or `-- ` (`passed`, `failed`).
/// In a table, only a first cell that is a severity (`error`, `warning`) is coloured.
pub fn color_line(line: &str) -> String {
    for (head, style) in [("error:", RED), ("warning:", YELLOW), ("ok:", GREEN)] {
        if let Some(rest) = line.strip_prefix(head) {
            return format!("{}{rest}", paint(head, style, true));
        }
    }
    // A table row whose first cell is a severity (validate's anomalies).
    if let Some(rest) = line.strip_prefix("│ ") {
        for (word, style) in [("error", RED), ("warning", YELLOW)] {
            if let Some(after) = rest.strip_prefix(word)
                && after.trim_start().starts_with('┆')
            {
                return format!("│ {}{after}", paint(word, style, true));
            }
        }
    }
    if line.starts_with(['│', '┌', '├', '└', '╞', '{', '[', ' ', '<']) {
        return line.to_string();
    }
    for (word, style) in [("failed", RED), ("passed", GREEN)] {
        for lead in [": ", "-- "] {
            let pat = format!("{lead}{word}");
            if let Some(i) = line.find(&pat) {
                let at = i + lead.len();
                return format!(
                    "{}{}{}",
                    &line[..at],
                    paint(word, style, true),
                    &line[at + word.len()..]
                );
            }
        }
    }
    line.to_string()
}

/// A writer that colours each complete line with [`color_line`]; what it is given has
/// already been escaped, so the only escape sequences in the output are its own.
pub struct Coloring<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> Coloring<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            line: Vec::new(),
        }
    }

    fn emit_line(&mut self) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        self.inner.write_all(color_line(&text).as_bytes())
    }
}

impl<W: Write> Write for Coloring<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for chunk in buf.split_inclusive(|b| *b == b'\n') {
            self.line.extend_from_slice(chunk);
            if chunk.ends_with(b"\n") {
                self.line.pop();
                self.emit_line()?;
                self.inner.write_all(b"\n")?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            self.emit_line()?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_and_severities_are_coloured_tables_are_not() {
        assert_eq!(
            color_line("error: kind -- message"),
            "\x1b[1;31merror:\x1b[0m kind -- message"
        );
        assert_eq!(
            color_line("penguins.csv: failed: 2 errors, 0 warnings (344 rows)"),
            "penguins.csv: \x1b[1;31mfailed\x1b[0m: 2 errors, 0 warnings (344 rows)"
        );
        assert_eq!(
            color_line("labels: x.csv (150 rows) -- passed"),
            "labels: x.csv (150 rows) -- \x1b[1;32mpassed\x1b[0m"
        );
        let row = "│ failed ┆ x │";
        assert_eq!(color_line(row), row);
        assert_eq!(
            color_line("│ warning  ┆ x │"),
            "│ \x1b[1;33mwarning\x1b[0m  ┆ x │"
        );
        assert_eq!(color_line("  \"passed\": true,"), "  \"passed\": true,");
    }

    #[test]
    fn the_writer_colours_whole_lines_across_writes() {
        let mut out = Vec::new();
        {
            let mut w = Coloring::new(&mut out);
            w.write_all(b"warn").unwrap();
            w.write_all(b"ing: x\nok: y").unwrap();
            w.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b[1;33mwarning:\x1b[0m x\n\x1b[1;32mok:\x1b[0m y"
        );
    }
}
