//! Where results go: stdout (locked, buffered) or a file written atomically.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Output format shared by every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people (the default).
    Table,
    /// The stable machine contract (see schemas/).
    Json,
}

/// Whether `p` exists and is something other than a regular file or a directory: a
/// device such as `/dev/null` or `/dev/stdout`, a FIFO, a socket.
fn is_special(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Write `f`'s output to `path` atomically (temporary file in the same directory, then
/// rename), or to stdout when `path` is `None` or `-`. A device or FIFO (`-o /dev/null`)
/// is written in place: renaming a file over it would replace `/dev/null` itself when
/// running as root, and fail otherwise.
pub fn emit(path: Option<&Path>, f: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    match path {
        Some(p) if p != Path::new("-") && is_special(p) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .with_context(|| format!("{}: cannot open output", p.display()))?;
            let mut w = BufWriter::new(file);
            f(&mut w)?;
            w.flush()
                .with_context(|| format!("{}: cannot write output", p.display()))?;
            Ok(())
        }
        Some(p) if p != Path::new("-") => {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("{}: cannot create output file", p.display()))?;
            let mut w = BufWriter::new(tmp);
            f(&mut w)?;
            let tmp = w
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("{}: cannot write output file", p.display()))?;
            tmp.persist(p)
                .map_err(|e| e.error)
                .with_context(|| format!("{}: cannot write output file", p.display()))?;
            Ok(())
        }
        _ => {
            let stdout = std::io::stdout().lock();
            let mut w = BufWriter::new(stdout);
            f(&mut w)?;
            w.flush()?;
            Ok(())
        }
    }
}

/// Fail before any work when an output file (`-o`, `--html`) cannot be written: its
/// directory does not exist, or it names a directory. Without this a long run printed its
/// table and only then failed with exit 2 on the missing report directory.
pub fn check_writable<'a>(paths: impl IntoIterator<Item = Option<&'a Path>>) -> Result<()> {
    for p in paths.into_iter().flatten() {
        if p == Path::new("-") {
            continue;
        }
        if p.is_dir() {
            anyhow::bail!("{}: is a directory, not an output file", p.display());
        }
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            anyhow::bail!(
                "{}: cannot create output file: directory {} does not exist",
                p.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Serialise as pretty JSON with a trailing newline, terminal-safe (see [`crate::json`]).
pub fn write_json<T: serde::Serialize>(w: &mut dyn Write, value: &T) -> Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, crate::json::TerminalSafe::new());
    value.serialize(&mut ser)?;
    writeln!(w)?;
    Ok(())
}
