//! The `preflight` binary: argument parsing, exit codes, output plumbing. Each subcommand
//! lives in `commands/<name>.rs` with a `run(args) -> Result<ExitStatus>`.

mod commands;
mod gate;
mod html;
mod json;
mod output;
mod progress;
mod report;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Check data before a model trains on it and before a pipeline ships it.
#[derive(Debug, Parser)]
#[command(name = "preflight", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        match s {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error.into()
            } else {
                ExitStatus::Success.into()
            };
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
    let result = match std::panic::catch_unwind(|| dispatch(cli.command)) {
        Ok(result) => result,
        Err(_) => {
            let what = LAST_PANIC.lock().ok().and_then(|mut m| m.take());
            let _ = writeln!(
                std::io::stderr(),
                "error: internal error ({}); please report it with the command you ran",
                what.unwrap_or_else(|| "panic".to_string())
            );
            return ExitStatus::Error.into();
        }
    };
    match result {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => ExitStatus::Success.into(),
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            // One line: the error and its causes joined, as users paste it into issues.
            let _ = writeln!(stderr, "error: {err:#}");
            ExitStatus::Error.into()
        }
    }
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
    }
}

/// A closed pipe (`preflight profile x | head`) is not an error worth a message.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
