//! `ndpresponder`: flags in, then either `check` or the daemon loop. Never forks: procd and
//! systemd supervise it.

use ndpresponder::cli::{self, Command};
use ndpresponder::config;
use ndpresponder::daemon::Daemon;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(args.iter().map(String::as_str)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ndpresponder: {}", e.0);
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            print!("{}", cli::usage());
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("{}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Check { config_dir } => check(&config_dir),
        Command::Run(opts) => {
            let level = if opts.verbose {
                config::LogLevel::Debug
            } else {
                config::LogLevel::Info
            };
            ndpresponder::log::init(opts.foreground, level);
            let mut daemon = match Daemon::new(opts) {
                Ok(d) => d,
                Err(e) => {
                    ndpresponder::log_error!("cannot start: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match daemon.run() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    ndpresponder::log_error!("stopped: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `ndpresponder check`: validates the UCI file, prints warnings, errors and the effective
/// configuration, and notes devices that do not exist (yet).
fn check(dir: &std::path::Path) -> ExitCode {
    let path = cli::uci_file(dir, std::path::Path::new(cli::UCI_OVERRIDE_DIR));
    match config::from_uci(&path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            for u in &loaded.config.uplinks {
                if ndpresponder::sys::if_nametoindex(&u.device).is_none() {
                    eprintln!(
                        "warning: uplink '{}': device '{}' does not exist now; it will be used when it appears",
                        u.name, u.device
                    );
                }
            }
            print!("{}", config::render(&loaded.config));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
