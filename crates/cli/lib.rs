//! The `preflight` command line as a library: argument parsing, exit codes, output
//! plumbing. The binary (`main.rs`) and the Python package (`crates/python`) both run it
//! through [`main_with`] and [`run`]. Each subcommand
//! lives in `commands/<name>.rs` with a `run(args) -> Result<ExitStatus>`: arguments ->
//! a plan, load, one library call, render. No command imports another: the arguments
//! several share are in `args`, loading (stored profiles or data, the one tokio runtime)
//! in `load`, what a path holds in `inputs`, the checks, their verdict and CI formats in `checks`, the
//! terminal tables in `render`, the HTML pages in `html`.

mod args;
mod checks;
mod commands;
mod config;
mod display;
mod history;
mod html;
mod inputs;
mod json;
mod load;
mod output;
mod progress;
mod render;
mod slices;
mod ui;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Check data before a model trains on it and before a pipeline ships it.
#[derive(Debug, Parser)]
#[command(name = "preflight", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Say nothing but results and errors: no notes, warnings or progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also say how long the run took and its peak memory (on stderr).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Colour verdicts and severities: auto (on a terminal, unless NO_COLOR is set),
    /// always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ui::ColorChoice::Auto)]
    color: ui::ColorChoice,
    /// Read settings from FILE instead of the preflight.toml (or pyproject.toml
    /// [tool.preflight]) found from the working directory upwards.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Read no config file.
    #[arg(long, global = true, conflicts_with = "config")]
    no_config: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    Profile(commands::profile::Args),
    Merge(commands::merge::Args),
    Infer(commands::infer::Args),
    Validate(commands::validate::Args),
    Drift(commands::drift::Args),
    Skew(commands::skew::Args),
    Labels(Box<commands::labels::Args>),
    Report(commands::report::Args),
    History(commands::history::Args),
    #[cfg(feature = "cluster")]
    Cluster(commands::cluster::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page (or write one per command with --dir).
    Man(commands::completions::ManArgs),
    /// Show the settings read from the config file, and where from.
    Config,
}

/// How a run ended; the process exit code (DESIGN.md "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Ran, and nothing at or above the failing severity was found.
    Success,
    /// Ran, and a check failed.
    Failure,
    /// Could not run.
    Error,
}

impl ExitStatus {
    /// The process exit code: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s.code())
    }
}

/// Runs the command line `args` (the program's name first) as the binary does: an error
/// is one line on stderr; the exit code follows DESIGN.md.
pub fn main_with(args: &[OsString]) -> ExitStatus {
    let (status, error) = run(args);
    if let Some(e) = error {
        let head = ui::paint("error:", ui::RED, ui::color_stderr());
        let _ = writeln!(std::io::stderr(), "{head} {e}");
    }
    status
}

/// Runs the command line `args` (the program's name first) in this process, with `tables`
/// readable under their names wherever a command takes a path (the Python API's data
/// frames). Gives how the run ended and, when it could not run, its one-line error, which
/// is not printed. Help and version go to stdout as usual. Runs are one at a time.
pub fn run_with_tables(
    args: &[OsString],
    tables: preflight_stats::source::MemoryTables,
) -> (ExitStatus, Option<String>) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    args::set_memory_tables(tables);
    let out = run(args);
    args::set_memory_tables(preflight_stats::source::MemoryTables::default());
    out
}

/// [`run_with_tables`] without tables.
pub fn run(args: &[OsString]) -> (ExitStatus, Option<String>) {
    // The config file's settings become the flags' defaults before parsing.
    let loaded = config::from_args(args).and_then(|p| p.map(|p| config::load(&p)).transpose());
    let command = loaded.and_then(|c| {
        let c = c.unwrap_or_default();
        let command = config::apply(cli_command(), &c)?;
        let _ = config::LOADED.set(c);
        Ok(command)
    });
    let command = match command {
        Ok(c) => c,
        Err(e) => {
            return (
                ExitStatus::Error,
                Some(display::one_line(&format!("{e:#}"))),
            );
        }
    };
    let cli = match parse(command, args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            // clap prints help/version to stdout (exit 0); usage errors are one line on
            // stderr (exit 2), like every other error.
            if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                return if e.use_stderr() {
                    (ExitStatus::Error, None)
                } else {
                    (ExitStatus::Success, None)
                };
            }
            let line = usage_error(&e, args);
            let line = line.strip_prefix("error: ").unwrap_or(&line).to_string();
            return (ExitStatus::Error, Some(line));
        }
    };
    // A panic is a bug, but the user still gets one line and exit 2, not a trace. The hook
    // only records the message: panics caught on purpose (see stats::check) stay silent.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{msg}{place}"));
        }
    }));
    ui::init(cli.quiet, cli.verbose, cli.color);
    let started = std::time::Instant::now();
    let result = std::panic::catch_unwind(|| dispatch(cli.command));
    let (status, error) = finish(result, started);
    inputs::remove_stdin();
    // Whatever part of preflight wrote the message (a schema's, a profile's, an output's),
    // a URL in it is named without its credentials or query.
    (
        status,
        error.map(|e| preflight_stats::remote::redact_text(&e)),
    )
}

/// How the command ended (its error on one line, a panic as an internal error) and the
/// exit status.
fn finish(
    result: std::thread::Result<anyhow::Result<ExitStatus>>,
    started: std::time::Instant,
) -> (ExitStatus, Option<String>) {
    let result = match result {
        Ok(result) => result,
        Err(_) => {
            let what = LAST_PANIC.lock().ok().and_then(|mut m| m.take());
            let error = format!(
                "internal error ({}); please report it with the command you ran",
                display::one_line(&what.unwrap_or_else(|| "panic".to_string()))
            );
            return (ExitStatus::Error, Some(error));
        }
    };
    if ui::verbose() {
        let peak = ui::peak_rss()
            .map(|b| format!(", peak memory {:.1} MB", b as f64 / 1e6))
            .unwrap_or_default();
        ui::info(&format!(
            "took {:.2} s{peak}",
            started.elapsed().as_secs_f64()
        ));
    }
    match result {
        Ok(status) => (status, None),
        Err(err) if is_broken_pipe(&err) => (ExitStatus::Success, None),
        // One line: the error and its causes joined, as users paste it into issues; the
        // data's control characters (a column name with an escape sequence or a newline)
        // escaped.
        Err(err) => {
            let text = inputs::shown(&message(&err)).into_owned();
            (ExitStatus::Error, Some(display::one_line(&text)))
        }
    }
}

/// An error and its causes joined by `: `, as anyhow's `{:#}` does, except that an error
/// of preflight's libraries ends the chain: its message already says what its causes say
/// (cleaned up, on one line), and they are kept for programs to tell errors apart
/// (`is_resources_exhausted`), not to be printed twice.
fn message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&cause.to_string());
        if cause.is::<preflight_stats::Error>() || cause.is::<preflight_schema::Error>() {
            break;
        }
    }
    out
}

static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn dispatch(command: Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Profile(args) => commands::profile::run(args),
        Command::Merge(args) => commands::merge::run(args),
        Command::Infer(args) => commands::infer::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Drift(args) => commands::drift::run(args),
        Command::Skew(args) => commands::skew::run(args),
        Command::Labels(args) => commands::labels::run(*args),
        Command::Report(args) => commands::report::run(args),
        Command::History(args) => commands::history::run(args),
        #[cfg(feature = "cluster")]
        Command::Cluster(args) => commands::cluster::run(args),
        Command::Completions(args) => commands::completions::completions(args),
        Command::Man(args) => commands::completions::man(args),
        Command::Config => config::show(),
    }
}

/// Parse the command line. Every option that takes a value accepts a negative number as
/// that value (`--max-mismatch-rate -1` is a value out of range, said so by the command,
/// not an unknown flag `-1`).
fn parse(command: clap::Command, args: &[OsString]) -> Result<Cli, clap::Error> {
    let matches = command.try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// The command line's definition, with negative numbers accepted as option values.
fn cli_command() -> clap::Command {
    Cli::command().mut_subcommands(|sub| {
        sub.mut_args(|arg| {
            if arg.get_action().takes_values() {
                arg.allow_negative_numbers(true)
            } else {
                arg
            }
        })
    })
}

/// A clap usage error as one line: `error: <what> (possible values: ...); tip: ...; see
/// 'preflight <command> --help'`. clap's own rendering takes 4 to 7 lines (the error, the
/// values, a tip, the usage, a pointer to --help).
fn usage_error(e: &clap::Error, args: &[OsString]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let rendered = e.render().to_string();
    let mut lines = rendered.lines();
    let mut head = lines.next().unwrap_or("error").trim_end().to_string();
    // An unsigned count given a negative number: clap's parser says `invalid digit found in
    // string`; say what is wrong with the value instead.
    if e.kind() == ErrorKind::ValueValidation
        && let Some(ContextValue::String(v)) = e.get(ContextKind::InvalidValue)
        && v.starts_with('-')
        && v.parse::<f64>().is_ok()
        && let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg)
    {
        head = format!("error: invalid value '{v}' for '{arg}': must not be negative");
    }
    let (mut items, mut notes, mut tips) = (Vec::new(), Vec::new(), Vec::new());
    for line in lines {
        let t = line.trim();
        if t.is_empty() || t.starts_with("Usage:") || t.starts_with("For more information") {
            continue;
        }
        if let Some(tip) = t.strip_prefix("tip:") {
            tips.push(tip.trim().to_string());
        } else if let Some(note) = t.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            notes.push(note.to_string());
        } else {
            items.push(t.to_string());
        }
    }
    let mut out = head;
    if !items.is_empty() {
        out.push_str(if out.ends_with(':') { " " } else { ": " });
        out.push_str(&items.join(", "));
    }
    for n in notes {
        out.push_str(&format!(" ({n})"));
    }
    for t in tips {
        out.push_str(&format!("; tip: {t}"));
    }
    // The subcommand the user typed, for a pointer to its help.
    let sub = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find(|a| Cli::command().find_subcommand(a).is_some());
    match sub {
        Some(s) => out.push_str(&format!("; see 'preflight {s} --help'")),
        None => out.push_str("; see 'preflight --help'"),
    }
    display::one_line(&out)
}

/// A closed pipe (`preflight profile x | head`) is not an error worth a message. serde_json
/// keeps the `io::Error` inside its own error (its `source()` skips it), so it is asked too.
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}
