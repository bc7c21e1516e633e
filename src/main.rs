//! The `gen` binary: parses the command line, runs the command and turns errors into exit codes.

use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use clap::Parser;
use turbogen::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cwd = match std::env::current_dir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = anstream::stdout();
    match turbogen::commands::run(cli, &cwd, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let style = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
            let mut err = anstream::stderr();
            let _ =
                std::io::Write::write_fmt(&mut err, format_args!("{style}error:{style:#} {e}\n"));
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
