//! Where results go: stdout (locked, buffered) or a file written atomically.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Output format shared by every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// The stable machine contract (see schemas/).
    Json,
}

/// A command's output formats, as far as an output file's extension names one.
pub trait Formats: Copy + PartialEq + clap::ValueEnum {
    /// The format a lower-case extension names, if this command writes it.
    fn by_extension(ext: &str) -> Option<Self>;
    /// Without --format or a telling extension: on stdout, and into a file.
    const STDOUT: Self;
    const FILE: Self;
}

impl Formats for Format {
    fn by_extension(ext: &str) -> Option<Self> {
        (ext == "json").then_some(Self::Json)
    }
    const STDOUT: Self = Self::Table;
    const FILE: Self = Self::Json;
}

/// Extensions that name an output format, and what they name.
const KNOWN_EXTENSIONS: [(&str, &str); 5] = [
    ("json", "JSON"),
    ("md", "Markdown"),
    ("markdown", "Markdown"),
    ("xml", "JUnit XML"),
    ("html", "an HTML report"),
];

/// The output format: `--format`, else what the output file's extension names (`.json`,
/// `.md`, `.xml`), else a table on stdout and JSON in a file. `-o -` is stdout. A
/// `--format` that contradicts the extension, or an extension naming a format this
/// command cannot write (`profile -o p.md`), is an error before any work: writing JSON
/// into `out.md` would pass silently.
pub fn pick_format<F: Formats>(
    command: &str,
    asked: Option<F>,
    output: Option<&Path>,
) -> Result<F> {
    let file = output.filter(|p| *p != Path::new("-"));
    let name = |f: F| {
        f.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string())
    };
    let ext = file
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let known = ext
        .as_deref()
        .and_then(|e| KNOWN_EXTENSIONS.iter().find(|(k, _)| *k == e));
    let by_ext = ext.as_deref().and_then(F::by_extension);
    let shown = || file.map(|p| p.display().to_string()).unwrap_or_default();
    match (asked, by_ext, known) {
        (Some(a), Some(e), _) if a != e => anyhow::bail!(
            "--format {} contradicts -o {} (a .{} file is {}); drop one of them",
            name(a),
            shown(),
            ext.as_deref().unwrap_or(""),
            name(e)
        ),
        (Some(a), _, _) => Ok(a),
        (None, Some(e), _) => Ok(e),
        (None, None, Some((e, what))) => {
            let formats: Vec<String> = F::value_variants().iter().map(|f| name(*f)).collect();
            anyhow::bail!(
                "-o {}: `preflight {command}` cannot write {what} (.{e}); its formats are {} (choose one with --format, or name the file .json)",
                shown(),
                formats.join(", ")
            )
        }
        (None, None, None) => Ok(if file.is_some() { F::FILE } else { F::STDOUT }),
    }
}

/// Whether `p` exists and is something other than a regular file or a directory: a
/// device such as `/dev/null` or `/dev/stdout`, a FIFO, a socket.
fn is_special(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The file an output path names: `p` itself, or the target of the symlink `p` (followed
/// to the end, also when the last target does not exist yet), so that `-o link.html`
/// writes the file the link points at and keeps the link.
fn resolve(p: &Path) -> Result<PathBuf> {
    match std::fs::metadata(p) {
        // A device, FIFO or directory is used as named (`/dev/stdout` is a link to a
        // pipe that has no path).
        Ok(m) if !m.is_file() => return Ok(p.to_path_buf()),
        Ok(_) if std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()) => {
            return std::fs::canonicalize(p)
                .with_context(|| format!("{}: cannot resolve the symlink", p.display()));
        }
        Ok(_) => return Ok(p.to_path_buf()),
        // Missing, or a dangling symlink: follow the links by hand.
        Err(_) => {}
    }
    let mut cur = p.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&cur)
                    .with_context(|| format!("{}: cannot read the symlink", p.display()))?;
                cur = match cur.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(cur),
        }
    }
    anyhow::bail!("{}: too many levels of symbolic links", p.display())
}

fn parent_dir(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The temporary file an output is written to before it is renamed into place: beside
/// the target (a rename never crosses file systems) and named after it
/// (`.report.html.preflight-tmp-XXXXXX`), so one left by a killed run says whose it is. A
/// new file gets mode 0666 less the umask, as any program's output does (tempfile's
/// default is 0600); replacing a file keeps that file's mode.
fn temp_beside(target: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let prefix = format!(".{name}.preflight-tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(parent_dir(target))?;
    if let Ok(m) = std::fs::metadata(target)
        && m.is_file()
    {
        tmp.as_file().set_permissions(m.permissions())?;
    }
    Ok(tmp)
}

/// A temporary file of `target` older than this was left by a killed run: the file lives
/// only while a finished result is written out.
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove the temporary files of `target` that killed runs left behind (see [`temp_beside`]);
/// ones younger than [`STALE_TEMP`] may belong to a run writing now and are kept.
fn remove_stale_temps(target: &Path) {
    let Some(name) = target.file_name() else {
        return;
    };
    let prefix = format!(".{}.preflight-tmp-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent_dir(target)) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(&prefix)
            && entry.metadata().is_ok_and(|m| {
                m.is_file()
                    && m.modified()
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > STALE_TEMP)
            });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Write `f`'s output to `path` atomically (temporary file in the same directory, then
/// rename), or to stdout when `path` is `None` or `-`. A device or FIFO (`-o /dev/null`)
/// is written in place: renaming a file over it would replace `/dev/null` itself when
/// running as root, and fail otherwise. A symlink is written through: its target is
/// replaced, the link stays.
///
/// A closed stdout (`| head`) ends the output quietly and is not an error: the command
/// goes on to its exit status (a failed check still exits 1).
pub fn emit(path: Option<&Path>, f: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    if crate::inputs::stdin_read() {
        // Standard input was copied to a temporary file: name it `-` in the output, as
        // the user did (the whole output is held once to do so).
        let mut buf = Vec::new();
        f(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let shown = crate::inputs::shown(&text).into_owned();
        return emit_direct(path, |w| Ok(w.write_all(shown.as_bytes())?));
    }
    emit_direct(path, f)
}

fn emit_direct(path: Option<&Path>, f: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    match path {
        // A remote object is written in one PUT once the output is complete: it appears
        // whole or not at all, as a local file renamed into place does.
        Some(p) if preflight_stats::remote::is_remote_path(p) => {
            let mut buf = Vec::new();
            f(&mut buf).with_context(|| format!("{}: cannot write output", p.display()))?;
            preflight_stats::remote::write(&p.to_string_lossy(), buf)?;
            Ok(())
        }
        Some(p) if p != Path::new("-") => {
            let cannot = || format!("{}: cannot write output", p.display());
            let target = resolve(p)?;
            if is_special(&target) {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .with_context(|| format!("{}: cannot open output", p.display()))?;
                let mut w = BufWriter::new(file);
                f(&mut w).with_context(cannot)?;
                w.flush().with_context(cannot)?;
                return Ok(());
            }
            // The temporary file is created only now, when the result is ready: a run
            // killed during its computation leaves nothing behind.
            let tmp = temp_beside(&target)
                .with_context(|| format!("{}: cannot create output file", p.display()))?;
            let mut w = BufWriter::new(tmp);
            f(&mut w).with_context(cannot)?;
            let tmp = w
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(cannot)?;
            tmp.persist(&target)
                .map_err(|e| e.error)
                .with_context(cannot)?;
            Ok(())
        }
        _ => {
            let stdout = BufWriter::new(std::io::stdout().lock());
            let mut w: Box<dyn Write> = if crate::ui::color_stdout() {
                Box::new(crate::ui::Coloring::new(stdout))
            } else {
                Box::new(stdout)
            };
            let written = f(&mut w).and_then(|()| Ok(w.flush()?));
            match written {
                Err(e) if crate::is_broken_pipe(&e) => Ok(()),
                other => other,
            }
        }
    }
}

/// Where a path is, to tell whether two paths name one file: the canonical path and, on
/// Unix, the device and inode (hard links, bind mounts).
#[derive(Debug, PartialEq, Eq)]
struct FileId {
    canonical: PathBuf,
    inode: Option<(u64, u64)>,
}

impl FileId {
    fn of(p: &Path) -> Option<Self> {
        let m = std::fs::metadata(p).ok()?;
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            Some((m.dev(), m.ino()))
        };
        #[cfg(not(unix))]
        let inode = {
            let _ = m;
            None
        };
        Some(Self {
            canonical: std::fs::canonicalize(p).ok()?,
            inode,
        })
    }

    fn same(&self, other: &Self) -> bool {
        match (self.inode, other.inode) {
            (Some(a), Some(b)) => a == b,
            _ => self.canonical == other.canonical,
        }
    }
}

/// The absolute, symlink-free path an output will have (its directory canonical), also
/// when the file does not exist yet.
fn absolute_target(target: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(target) {
        return Some(c);
    }
    let dir = std::fs::canonicalize(parent_dir(target)).ok()?;
    Some(dir.join(target.file_name()?))
}

/// Whether a directory input reads `out` (the stats crate's walk: every file below it
/// except those under a `.`- or `_`-prefixed name).
fn read_from_dir(dir: &Path, out: &Path) -> bool {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return false;
    };
    out.strip_prefix(&dir).is_ok_and(|rel| {
        rel.components().all(|c| {
            let n = c.as_os_str().to_string_lossy();
            !n.starts_with('.') && !n.starts_with('_')
        })
    })
}

/// Whether the input `pattern` (a glob) reads `out`: a file it matches now, or the
/// output path as given or as absolute.
fn read_by_glob(pattern: &str, out: &Path, given: &Path, id: Option<&FileId>) -> bool {
    if let (Some(id), Ok(paths)) = (id, glob::glob(pattern)) {
        let matched = paths
            .filter_map(std::result::Result::ok)
            .filter_map(|p| FileId::of(&p))
            .any(|f| f.same(id));
        if matched {
            return true;
        }
    }
    glob::Pattern::new(pattern).is_ok_and(|pat| pat.matches_path(given) || pat.matches_path(out))
}

/// Check before any work that every output file (`-o`, `--html`) can be written and
/// writes none of the run's inputs:
/// - its directory exists and takes a new file (the temporary file the output will be
///   written to is created and removed here: a read-only directory fails now, not after a
///   long run printed `passed`);
/// - it is not a directory, and no two outputs are one file;
/// - it is none of `inputs` (data, schema, baseline, training or probability files; the
///   same file by canonical path or device and inode, also through a symlink), and no
///   input directory or glob would read it. `-o self.csv` on `self.csv` used to replace
///   the data with its own profile.
///
/// A device or FIFO (`/dev/null`, `/dev/stdout`) is left alone until it is written.
pub fn check_outputs<'a, P: AsRef<Path>>(
    outputs: impl IntoIterator<Item = Option<&'a Path>>,
    inputs: impl IntoIterator<Item = P>,
) -> Result<()> {
    let inputs: Vec<P> = inputs.into_iter().collect();
    let mut seen: Vec<(PathBuf, &Path)> = Vec::new();
    for p in outputs.into_iter().flatten() {
        if p == Path::new("-") {
            continue;
        }
        if preflight_stats::remote::is_remote_path(p) {
            check_remote_output(p, &inputs)?;
            if let Some((_, first)) = seen.iter().find(|(o, _)| o == p) {
                anyhow::bail!(
                    "{}: is also the other output ({}); give two different files",
                    p.display(),
                    first.display()
                );
            }
            seen.push((p.to_path_buf(), p));
            continue;
        }
        let target = resolve(p)?;
        if target.is_dir() {
            anyhow::bail!("{}: is a directory, not an output file", p.display());
        }
        let dir = parent_dir(&target);
        if !dir.is_dir() {
            anyhow::bail!(
                "{}: cannot create output file: directory {} does not exist",
                p.display(),
                dir.display()
            );
        }
        // A device or FIFO is opened only when the output is written: opening a FIFO here
        // would hand its reader an end of file before the output.
        if is_special(&target) {
            continue;
        }
        let out = absolute_target(&target).unwrap_or_else(|| target.clone());
        let id = FileId::of(&target);
        for input in &inputs {
            let input = input.as_ref();
            let text = input.to_string_lossy();
            if text == "-" {
                continue;
            }
            let clash = if let Some(in_id) = FileId::of(input) {
                match &id {
                    Some(id) if in_id.same(id) => true,
                    _ => input.is_dir() && read_from_dir(input, &out),
                }
            } else {
                text.contains(['*', '?', '[']) && read_by_glob(&text, &out, p, id.as_ref())
            };
            if clash {
                let named = if input == p {
                    String::new()
                } else {
                    format!(" ({})", input.display())
                };
                anyhow::bail!(
                    "{}: is an input of this run{named}; refusing to overwrite it, write the output elsewhere",
                    p.display()
                );
            }
        }
        if let Some((_, first)) = seen.iter().find(|(o, _)| *o == out) {
            anyhow::bail!(
                "{}: is also the other output ({}); give two different files",
                p.display(),
                first.display()
            );
        }
        seen.push((out, p));
        remove_stale_temps(&target);
        // Can the directory take the file? Create the temporary file now and remove it.
        temp_beside(&target).with_context(|| {
            format!(
                "{}: cannot create output file in {}",
                p.display(),
                dir.display()
            )
        })?;
    }
    Ok(())
}

/// A remote output that an input names (the same URL, or an input prefix or glob that
/// would list it) is refused, as a local one is. Whether the bucket takes the object is
/// known only when it is written.
fn check_remote_output<P: AsRef<Path>>(p: &Path, inputs: &[P]) -> Result<()> {
    let out = p.to_string_lossy();
    for input in inputs {
        let text = input.as_ref().to_string_lossy();
        let by_prefix = {
            let dir = text.trim_end_matches('/');
            out.starts_with(&format!("{dir}/"))
        };
        let by_glob = text.contains(['*', '[', '?'])
            && glob::Pattern::new(&text).is_ok_and(|g| g.matches(&out));
        if text == out || by_prefix || by_glob {
            let named = if text == out {
                String::new()
            } else {
                format!(" ({text})")
            };
            anyhow::bail!(
                "{}: is an input of this run{named}; refusing to overwrite it, write the output elsewhere",
                preflight_stats::remote::redact(&out)
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
