//! The `preflight` binary; the command line itself is the library (`lib.rs`).

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    preflight::main_with(&args).into()
}
