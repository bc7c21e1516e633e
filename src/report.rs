//! What a run prints: one status per path in Rails's words and colours, `gen check`'s diffs and
//! summary, and the next steps after `gen new`.
//!
//! Colours go through anstream, so they show on a terminal and are stripped when piped.

use std::io::{Result, Write};
use std::path::Path;

use anstyle::{AnsiColor, Style};
use similar::TextDiff;

use crate::check::CheckPlan;
use crate::model::App;
use crate::types::Database;
use crate::write::{Plan, Status};

/// The word a status prints as: Rails's, plus `gen check`'s own.
pub fn word(status: Status) -> &'static str {
    match status {
        Status::Create => "create",
        Status::Identical => "identical",
        Status::Conflict => "conflict",
        Status::Force => "force",
        Status::Skip => "skip",
        Status::Inject => "inject",
        Status::Remove => "remove",
        Status::Merge => "merge",
        Status::Modified => "modified",
        Status::Missing => "missing",
        Status::Drifted => "drifted",
    }
}

fn style(status: Status) -> Style {
    let color = match status {
        Status::Create | Status::Inject | Status::Merge => AnsiColor::Green,
        Status::Identical => AnsiColor::Blue,
        Status::Conflict | Status::Remove | Status::Missing | Status::Drifted => AnsiColor::Red,
        Status::Force | Status::Skip | Status::Modified => AnsiColor::Yellow,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

/// Prints one status line in Rails's layout: the word right-aligned in twelve columns.
pub fn print_status(
    out: &mut dyn Write,
    status: Status,
    path: &str,
    detail: Option<&str>,
) -> Result<()> {
    let style = style(status);
    let word = word(status);
    write!(out, "{style}{word:>12}{style:#}  {path}")?;
    if let Some(detail) = detail {
        write!(out, "  ({detail})")?;
    }
    writeln!(out)
}

/// Prints one status per step of a plan.
pub fn plan(out: &mut dyn Write, plan: &Plan) -> Result<()> {
    for step in &plan.steps {
        print_status(out, step.status, &step.path, step.detail.as_deref())?;
    }
    Ok(())
}

/// Prints the paths that stopped a run, each as a `conflict`.
pub fn conflicts(out: &mut dyn Write, paths: &[&str]) -> Result<()> {
    for path in paths {
        print_status(out, Status::Conflict, path, None)?;
    }
    Ok(())
}

/// Prints what `gen check` found: a status per finding, a diff under each failing file that is
/// there, and a summary line.
pub fn check(out: &mut dyn Write, plan: &CheckPlan) -> Result<()> {
    for finding in &plan.findings {
        print_status(
            out,
            finding.status,
            &finding.path,
            finding.detail.as_deref(),
        )?;
        if let Some(diff) = &finding.diff {
            let text = unified_diff(&finding.path, &diff.actual, &diff.expected);
            write!(out, "{text}")?;
        }
    }
    writeln!(
        out,
        "gen check: {} current, {} modified by you, {} failing",
        plan.current,
        plan.modified,
        plan.failures()
    )
}

/// Prints the conflicting hunks of a file a merge marked, each under its path and line.
pub fn conflict_hunks(out: &mut dyn Write, path: &str, marked: &[u8]) -> Result<()> {
    for (line, hunk) in crate::merge::hunks(marked) {
        writeln!(out, "{path}:{line}:")?;
        write!(out, "{hunk}")?;
    }
    Ok(())
}

/// Prints what a run changes in a file as a unified diff, for `--dry-run`.
pub fn change(out: &mut dyn Write, path: &str, before: &[u8], after: &[u8]) -> Result<()> {
    let before = String::from_utf8_lossy(before);
    let after = String::from_utf8_lossy(after);
    let text = TextDiff::from_lines(before.as_ref(), after.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    write!(out, "{text}")
}

fn unified_diff(path: &str, actual: &[u8], expected: &[u8]) -> String {
    let actual = String::from_utf8_lossy(actual);
    let expected = String::from_utf8_lossy(expected);
    TextDiff::from_lines(actual.as_ref(), expected.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{path}"),
            &format!("b/{path} (as gen writes it)"),
        )
        .to_string()
}

/// Prints what to run after `gen new`; `shown` is the app's directory as the user named it.
pub fn next_steps(out: &mut dyn Write, shown: &Path, app: &App) -> Result<()> {
    // A Postgres app does not start without its database, so the steps say how to give it one.
    let database = match app.database {
        Database::Sqlite => String::new(),
        Database::Postgres => format!(
            "\n  createdb {name}_development\n  export DATABASE_URL=postgres://localhost/{name}_development",
            name = app.name
        ),
    };
    writeln!(
        out,
        "\nDone. Next:\n  cd {}{database}\n  gen resource message body:text\n  cargo run    # http://localhost:3000",
        shown.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Diff, Finding};

    fn plain(print: impl FnOnce(&mut dyn Write) -> Result<()>) -> String {
        let mut out = anstream::StripStream::new(Vec::new());
        print(&mut out).unwrap();
        String::from_utf8(out.into_inner()).unwrap()
    }

    #[test]
    fn status_lines_are_plain_when_piped() {
        assert_eq!(
            plain(|out| print_status(out, Status::Create, "src/app.rs", None)),
            "      create  src/app.rs\n"
        );
    }

    #[test]
    fn check_prints_findings_diffs_and_a_summary() {
        let plan = CheckPlan {
            findings: vec![
                Finding {
                    status: Status::Drifted,
                    path: "src/turbo/mod.rs".into(),
                    detail: None,
                    fails: true,
                    diff: Some(Diff {
                        actual: b"a\nb\n".to_vec(),
                        expected: b"a\nc\n".to_vec(),
                    }),
                },
                Finding {
                    status: Status::Missing,
                    path: "src/lib.rs".into(),
                    detail: Some("pub mod rooms;".into()),
                    fails: true,
                    diff: None,
                },
            ],
            current: 3,
            modified: 1,
        };
        assert_eq!(
            plain(|out| check(out, &plan)),
            "     drifted  src/turbo/mod.rs\n\
             --- a/src/turbo/mod.rs\n\
             +++ b/src/turbo/mod.rs (as gen writes it)\n\
             @@ -1,2 +1,2 @@\n a\n-b\n+c\n\
             \x20    missing  src/lib.rs  (pub mod rooms;)\n\
             gen check: 3 current, 1 modified by you, 2 failing\n"
        );
    }
}
