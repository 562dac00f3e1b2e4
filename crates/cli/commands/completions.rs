//! `preflight completions <shell>` and `preflight man`: shell completion scripts and man
//! pages, generated from the same clap definition as `--help`, so they never fall behind.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::ExitStatus;
use crate::output::emit;

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
#[command(long_about = "Print a completion script for SHELL to stdout.

Install it where your shell looks for completions, e.g.:
  preflight completions bash > ~/.local/share/bash-completion/completions/preflight
  preflight completions zsh > ~/.zfunc/_preflight        # with fpath+=~/.zfunc
  preflight completions fish > ~/.config/fish/completions/preflight.fish
  preflight completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn completions(args: CompletionsArgs) -> Result<ExitStatus> {
    let mut cmd = crate::Cli::command();
    emit(None, |w| {
        clap_complete::generate(args.shell, &mut cmd, "preflight", w);
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}

/// Print the man page, or write one page per command into a directory.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print the man page of preflight (roff) to stdout, or with --dir write \
preflight.1 and one page per command (preflight-profile.1, ...) into DIR.

Examples:
  preflight man | man -l -
  preflight man --dir /usr/local/share/man/man1"
)]
pub struct ManArgs {
    /// Write preflight.1 and preflight-<command>.1 into this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn man(args: ManArgs) -> Result<ExitStatus> {
    let cmd = crate::Cli::command();
    let Some(dir) = args.dir else {
        emit(None, |w| Ok(clap_mangen::Man::new(cmd).render(w)?))?;
        return Ok(ExitStatus::Success);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut pages = vec![("preflight.1".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands() {
        // The page's title and synopsis name the full command (`preflight-profile`).
        let name = format!("preflight-{}", sub.get_name());
        let sub = sub.clone().name(name.clone()).display_name(name.clone());
        pages.push((format!("{name}.1"), sub));
    }
    for (file, page) in pages {
        let path = dir.join(file);
        emit(Some(&path), |w| Ok(clap_mangen::Man::new(page).render(w)?))?;
    }
    Ok(ExitStatus::Success)
}
