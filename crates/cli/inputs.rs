//! What a user-named input is: data, a stored profile, or another preflight JSON document
//! (a validate, drift, skew or labels report). One rule for every command, so that a
//! stored profile given where data is expected, or a report given where a profile is
//! expected, is named for what it is instead of failing in the NDJSON reader ("Not valid
//! JSON: EOF").
//!
//! The rule: a path whose name ends in `.profile.json` is meant as a stored profile; any
//! other `.json` file holding exactly one JSON object (not NDJSON: one object per line)
//! whose top-level keys are those of a stored profile (`version`, `row_count`, `columns`)
//! is one too. A JSON object with the keys of a preflight report is that report. Anything
//! else (globs, directories, other files) is data.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Result, bail};
use preflight_stats::remote;
use serde::de::IgnoredAny;

/// What one input path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Data,
    /// A stored profile (`preflight profile --format json`, `preflight merge`).
    Profile,
    /// The JSON report of a preflight command (the command's name).
    Report(&'static str),
}

/// The top-level keys of a file holding exactly one JSON object; `None` for anything else
/// (NDJSON with several records, not JSON, unreadable).
fn top_level_keys(path: &Path) -> Option<BTreeSet<String>> {
    let reader = std::io::BufReader::new(remote::open_path(path).ok()?);
    let mut values = serde_json::Deserializer::from_reader(reader)
        .into_iter::<std::collections::BTreeMap<String, IgnoredAny>>();
    let first = values.next()?.ok()?;
    // A second value: NDJSON data whose first record happens to be an object.
    if values.next().is_some() {
        return None;
    }
    Some(first.into_keys().collect())
}

/// What a preflight document is, from its top-level keys.
fn kind_of(keys: &BTreeSet<String>) -> Option<Input> {
    match preflight_stats::profile::document_kind(|k| keys.contains(k))? {
        "profile" => Some(Input::Profile),
        command => Some(Input::Report(command)),
    }
}

/// What `path` holds (see the module doc for the rule).
pub fn classify(path: &str) -> Input {
    let lower = path.to_ascii_lowercase();
    let named_profile = lower.ends_with(".profile.json");
    let exists = remote::is_remote(path) || Path::new(path).is_file();
    if !lower.ends_with(".json") || !exists {
        return if named_profile {
            Input::Profile
        } else {
            Input::Data
        };
    }
    match top_level_keys(Path::new(path)).as_ref().and_then(kind_of) {
        Some(kind) => kind,
        // Named as a profile: reading it as one says what is wrong with it.
        None if named_profile => Input::Profile,
        None => Input::Data,
    }
}

/// Whether `path` is a stored profile.
pub fn is_stored_profile(path: &str) -> bool {
    classify(path) == Input::Profile
}

fn report_error(path: &str, command: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{path}: is the JSON report of `preflight {command}`, not data or a stored profile; \
         give the data, or a profile written by `preflight profile DATA --format json -o x.profile.json`"
    )
}

/// Refuse a preflight report where a stored profile is expected (`merge`).
pub fn refuse_report(path: &str) -> Result<()> {
    match classify(path) {
        Input::Report(command) => Err(report_error(path, command)),
        _ => Ok(()),
    }
}

/// Whether one side's `paths` are stored profiles (`true`) or data (`false`). A preflight
/// report, or a side that mixes profiles and data, is an error.
pub fn profiles_or_data(paths: &[String]) -> Result<bool> {
    let mut profiles = 0;
    for p in paths {
        match classify(p) {
            Input::Data => {}
            Input::Profile => profiles += 1,
            Input::Report(command) => return Err(report_error(p, command)),
        }
    }
    if profiles > 0 && profiles < paths.len() {
        bail!(
            "{}: one side mixes stored profiles and data; give one or the other",
            paths.join(" ")
        );
    }
    Ok(profiles > 0)
}

/// Refuse stored profiles and reports where `command` reads the rows themselves; `hint`
/// says what to do with a profile instead (e.g. "a stored profile can be --baseline").
pub fn require_data(paths: &[String], command: &str, hint: &str) -> Result<()> {
    for p in paths {
        match classify(p) {
            Input::Data => {}
            Input::Profile => bail!(
                "{p}: is a stored profile (JSON written by `preflight profile`), where {command} \
                 expects data: it reads the rows themselves, so give the data files{hint}"
            ),
            Input::Report(c) => return Err(report_error(p, c)),
        }
    }
    Ok(())
}

/// Standard input given as `-`: copied to a temporary file once (Parquet and Arrow need
/// to seek; CSV and NDJSON are read the same way), named `-` again in every output.
struct Stdin {
    dir: tempfile::TempDir,
    path: String,
}

static STDIN: std::sync::Mutex<Option<Stdin>> = std::sync::Mutex::new(None);

/// Replaces a `-` among `paths` with a file holding standard input (streamed to disk, so
/// memory does not grow with it). Its format is `format` when given, else sniffed from the
/// first bytes: Parquet (`PAR1`), Arrow IPC (`ARROW1`), gzip (CSV inside), NDJSON (`{`),
/// else CSV. At most one `-` per run.
pub fn read_stdin(paths: &mut [String], format: Option<crate::args::InputFormat>) -> Result<()> {
    use std::io::{BufRead, Write};
    let dashes = paths.iter().filter(|p| *p == "-").count();
    if dashes == 0 {
        return Ok(());
    }
    let Ok(mut slot) = STDIN.lock() else {
        bail!("-: standard input is not available");
    };
    if dashes > 1 || slot.is_some() {
        bail!("-: standard input can be read once per run; give `-` once");
    }
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let head = reader.fill_buf().map(<[u8]>::to_vec).unwrap_or_default();
    use crate::args::InputFormat as F;
    let ext = match format {
        Some(F::Csv) => "csv",
        Some(F::Parquet) => "parquet",
        Some(F::Ndjson) => "ndjson",
        Some(F::Arrow) => "arrow",
        None if head.starts_with(b"PAR1") => "parquet",
        None if head.starts_with(b"ARROW1") => "arrow",
        None if head.starts_with(&[0x1f, 0x8b]) => "csv.gz",
        None if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => "ndjson",
        None => "csv",
    };
    let dir = tempfile::Builder::new()
        .prefix("preflight-stdin")
        .tempdir()?;
    let file = dir.path().join(format!("stdin.{ext}"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
    std::io::copy(&mut reader, &mut out)
        .map_err(|e| anyhow::anyhow!("-: cannot read standard input: {e}"))?;
    out.flush()?;
    let path = file.to_string_lossy().into_owned();
    for p in paths.iter_mut().filter(|p| *p == "-") {
        *p = path.clone();
    }
    *slot = Some(Stdin { dir, path });
    Ok(())
}

/// `text` with the file holding standard input named `-` again, as the user named it.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    match STDIN.lock().ok().as_ref().and_then(|s| s.as_ref()) {
        Some(s) if text.contains(&s.path) => text.replace(&s.path, "-").into(),
        _ => text.into(),
    }
}

/// Whether standard input was read into a file this run (outputs then pass through
/// [`shown`]).
pub fn stdin_read() -> bool {
    STDIN.lock().is_ok_and(|s| s.is_some())
}

/// Removes the file holding standard input (statics are not dropped at exit).
pub fn remove_stdin() {
    if let Ok(mut s) = STDIN.lock()
        && let Some(s) = s.take()
    {
        let _ = s.dir.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[&str]) -> BTreeSet<String> {
        ks.iter().map(|k| (*k).to_string()).collect()
    }

    #[test]
    fn documents_are_told_apart_by_their_keys() {
        assert_eq!(
            kind_of(&keys(&["version", "row_count", "sources", "columns"])),
            Some(Input::Profile)
        );
        assert_eq!(
            kind_of(&keys(&["version", "passed", "anomalies", "schema"])),
            Some(Input::Report("validate"))
        );
        assert_eq!(kind_of(&keys(&["id", "price"])), None);
    }
}
