//! Settings from a file: `preflight.toml`, or the `[tool.preflight]` table of
//! `pyproject.toml`, the first found from the working directory upwards (or the file
//! named by `--config` or `PREFLIGHT_CONFIG`; `--no-config` reads none).
//!
//! Keys are the long flag names, as on the command line; a table names the command they
//! apply to, top-level keys apply to every command that has the flag:
//!
//! ```toml
//! fail-on = "warning"              # every checking command
//! null-value = ["NA", "-"]         # every command that reads CSV
//! [validate]
//! schema = "schemas/train.yaml"
//! [drift]
//! method = ["psi"]
//! threshold = 0.2
//! ```
//!
//! A setting becomes the flag's default, so a flag given on the command line overrides it
//! and `--help` shows it. An unknown command or flag is an error naming the file and the
//! key (a typo must not be ignored silently). `preflight config` lists what applies.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{ArgAction, Command};

/// One setting: the command it is for (`None`: every command with the flag), the flag's
/// long name, its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub command: Option<String>,
    pub flag: String,
    pub values: Vec<String>,
}

/// The settings of one file.
#[derive(Debug, Default)]
pub struct Config {
    pub file: Option<PathBuf>,
    pub settings: Vec<Setting>,
}

/// The file to read: `explicit` (`--config`, `PREFLIGHT_CONFIG`), else the first
/// `preflight.toml`, or `pyproject.toml` with a `[tool.preflight]` table, from `start`
/// upwards.
pub fn find(start: &Path, explicit: Option<PathBuf>) -> Option<PathBuf> {
    if explicit.is_some() {
        return explicit;
    }
    for dir in start.ancestors() {
        let own = dir.join("preflight.toml");
        if own.is_file() {
            return Some(own);
        }
        let py = dir.join("pyproject.toml");
        if py.is_file()
            && std::fs::read_to_string(&py).is_ok_and(|t| {
                t.parse::<toml_edit::DocumentMut>()
                    .is_ok_and(|d| d.get("tool").and_then(|t| t.get("preflight")).is_some())
            })
        {
            return Some(py);
        }
    }
    None
}

/// Reads the settings of `path` (for `pyproject.toml`, its `[tool.preflight]` table).
pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        anyhow::anyhow!(
            "{}: {}",
            path.display(),
            crate::display::one_line(&e.to_string())
        )
    })?;
    let pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let root = if pyproject {
        doc.get("tool")
            .and_then(|t| t.get("preflight"))
            .and_then(toml_edit::Item::as_table_like)
    } else {
        Some(doc.as_table() as &dyn toml_edit::TableLike)
    };
    let mut settings = Vec::new();
    let Some(root) = root else {
        return Ok(Config {
            file: Some(path.to_path_buf()),
            settings,
        });
    };
    let at = |key: &str| format!("{}: `{key}`", path.display());
    for (key, item) in root.iter() {
        if let Some(table) = item.as_table_like() {
            for (flag, v) in table.iter() {
                let values = values(v).with_context(|| at(&format!("{key}.{flag}")))?;
                settings.push(Setting {
                    command: Some(key.to_string()),
                    flag: flag.to_string(),
                    values,
                });
            }
        } else {
            settings.push(Setting {
                command: None,
                flag: key.to_string(),
                values: values(item).with_context(|| at(key))?,
            });
        }
    }
    Ok(Config {
        file: Some(path.to_path_buf()),
        settings,
    })
}

/// A value as the command line would give it: text, a number, a boolean, or a list.
fn values(item: &toml_edit::Item) -> Result<Vec<String>> {
    use toml_edit::Value as V;
    let one = |v: &V| -> Result<String> {
        Ok(match v {
            V::String(s) => s.value().clone(),
            V::Integer(i) => i.value().to_string(),
            V::Float(f) => f.value().to_string(),
            V::Boolean(b) => b.value().to_string(),
            _ => bail!("expected text, a number, true/false or a list of them"),
        })
    };
    match item.as_value() {
        Some(V::Array(a)) => a.iter().map(one).collect(),
        Some(v) => Ok(vec![one(v)?]),
        None => bail!("expected a value"),
    }
}

/// Makes each setting the default of its flag. A top-level key applies to every command
/// that has the flag (and must exist in one); a command's table must name a command and
/// its flags.
pub fn apply(mut cli: Command, config: &Config) -> Result<Command> {
    let file = config
        .file
        .as_deref()
        .map_or_else(String::new, |p| p.display().to_string());
    for s in &config.settings {
        let mut used = false;
        let names: Vec<String> = cli
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        if let Some(c) = &s.command
            && !names.contains(c)
        {
            bail!(
                "{file}: [{c}] is not a preflight command (commands: {})",
                names.join(", ")
            );
        }
        for name in names {
            if s.command.as_deref().is_some_and(|c| c != name) {
                continue;
            }
            let sub = cli.find_subcommand(&name).context("subcommand")?;
            let Some(arg) = sub
                .get_arguments()
                .find(|a| a.get_long() == Some(s.flag.as_str()))
            else {
                continue;
            };
            let id = arg.get_id().clone();
            let many = matches!(arg.get_action(), ArgAction::Append)
                || arg.get_num_args().is_some_and(|n| n.max_values() > 1)
                || arg.get_value_delimiter().is_some();
            if s.values.len() > 1 && !many {
                bail!(
                    "{file}: `{}` takes one value in `preflight {name}`, the file gives {}",
                    s.flag,
                    s.values.len()
                );
            }
            let values: Vec<String> = s.values.clone();
            cli = cli.mut_subcommand(&name, |sub| {
                sub.mut_arg(id, |a| {
                    a.default_values(values)
                        // The file's value is not required again on the command line.
                        .required(false)
                })
            });
            used = true;
        }
        if !used {
            let scope = s
                .command
                .as_deref()
                .map_or_else(|| "any command".to_string(), |c| format!("`preflight {c}`"));
            bail!(
                "{file}: `{}` is not an option of {scope} (see --help)",
                s.flag
            );
        }
    }
    Ok(cli)
}

/// The config file's path and whether one is read, from the raw arguments and the
/// environment: `--no-config`, `--config FILE` / `--config=FILE`, `PREFLIGHT_CONFIG`.
pub fn from_args(args: &[std::ffi::OsString]) -> Result<Option<PathBuf>> {
    let mut explicit: Option<PathBuf> = std::env::var_os("PREFLIGHT_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--no-config" {
            return Ok(None);
        }
        if a == "--config" {
            explicit = it.next().map(PathBuf::from);
        } else if let Some(v) = a.strip_prefix("--config=") {
            explicit = Some(PathBuf::from(v));
        }
    }
    if let Some(p) = &explicit
        && !p.is_file()
    {
        bail!("{}: no such config file", p.display());
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Ok(find(&cwd, explicit))
}

/// The config read this run, for `preflight config`.
pub static LOADED: std::sync::OnceLock<Config> = std::sync::OnceLock::new();

/// `preflight config`: the file read and each setting, as it applies.
pub fn show() -> Result<crate::ExitStatus> {
    let config = LOADED.get();
    crate::output::emit(None, |w| {
        match config.and_then(|c| c.file.as_deref()) {
            None => {
                let cwd = std::env::current_dir().unwrap_or_default();
                writeln!(
                    w,
                    "no config file (looked for preflight.toml, or pyproject.toml with [tool.preflight], from {} upwards)",
                    cwd.display()
                )?;
            }
            Some(file) => {
                writeln!(w, "config file: {}", file.display())?;
                let settings = config.map_or(&[][..], |c| c.settings.as_slice());
                if settings.is_empty() {
                    writeln!(w, "(no settings)")?;
                }
                for s in settings {
                    let scope = s
                        .command
                        .as_deref()
                        .map_or_else(|| "every command".to_string(), |c| format!("preflight {c}"));
                    writeln!(w, "--{} {}    ({scope})", s.flag, s.values.join(" "))?;
                }
                writeln!(w, "Flags given on the command line override these.")?;
            }
        }
        Ok(())
    })?;
    Ok(crate::ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, name: &str) -> Result<Config> {
        let d = tempfile::tempdir()?;
        let p = d.path().join(name);
        std::fs::write(&p, text)?;
        load(&p)
    }

    #[test]
    fn keys_become_settings_for_all_or_one_command() {
        let c = parse(
            "fail-on = \"warning\"\nnull-value = [\"NA\", \"-\"]\n[drift]\nthreshold = 0.2\nallow-empty = true\n",
            "preflight.toml",
        )
        .unwrap();
        let got: Vec<(Option<&str>, &str, Vec<&str>)> = c
            .settings
            .iter()
            .map(|s| {
                (
                    s.command.as_deref(),
                    s.flag.as_str(),
                    s.values.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (None, "fail-on", vec!["warning"]),
                (None, "null-value", vec!["NA", "-"]),
                (Some("drift"), "threshold", vec!["0.2"]),
                (Some("drift"), "allow-empty", vec!["true"]),
            ]
        );
    }

    #[test]
    fn pyproject_is_read_from_its_tool_table_only() {
        let c = parse(
            "[project]\nname = \"x\"\n[tool.preflight]\nfail-on = \"warning\"\n[tool.preflight.validate]\nschema = \"s.yaml\"\n",
            "pyproject.toml",
        )
        .unwrap();
        assert_eq!(c.settings.len(), 2);
        assert_eq!(c.settings[1].command.as_deref(), Some("validate"));
    }

    #[test]
    fn bad_files_say_where() {
        let e = parse("fail-on = \n", "preflight.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("preflight.toml: "), "{e}");
        let e = parse("x = { a = 1 }\n[drift]\nmethod = [[1]]\n", "preflight.toml").unwrap_err();
        assert!(format!("{e:#}").contains("`drift.method`"), "{e:#}");
    }
}
