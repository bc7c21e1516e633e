//! What `gen check` finds: the app on an `Fs` compared with the app as `gen` would render it.
//!
//! Planning only compares and records a `Status` per path; `report::check` prints the findings.

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::inject::Outcome;
use crate::project::{Project, Rendered};
use crate::render::{self, Owner};
use crate::write::Status;

/// A file's contents on disk and as `gen` would write it, for the diff under a failing file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub actual: Vec<u8>,
    pub expected: Vec<u8>,
}

/// One path that is not as `gen` would leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `Missing`, `Drifted` or `Modified`.
    pub status: Status,
    pub path: String,
    /// The injection that is missing or can no longer be checked, shown after the path.
    pub detail: Option<String>,
    /// Whether this finding fails the check.
    pub fails: bool,
    /// For a failing file that is there, what to diff.
    pub diff: Option<Diff>,
}

/// Everything `gen check` found, in the order it looked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckPlan {
    pub findings: Vec<Finding>,
    /// Files exactly as `gen` would write them.
    pub current: usize,
    /// Files the user changed that do not fail the check.
    pub modified: usize,
}

impl CheckPlan {
    pub fn failures(&self) -> usize {
        self.findings.iter().filter(|f| f.fails).count()
    }

    /// `Ok` when nothing failed; otherwise the error that ends `gen check`.
    pub fn outcome(&self) -> Result<()> {
        let failures = self.failures();
        if failures == 0 {
            return Ok(());
        }
        let one = failures == 1;
        Err(Error::CheckFailed(format!(
            "{failures} generated {} missing or out of date; `gen check` shows the difference above. \
             Restore {} from the diff, or regenerate with `gen resource NAME --spec specs/NAME.toml --force`.",
            if one { "file is" } else { "files are" },
            if one { "it" } else { "them" },
        )))
    }
}

/// Compares the app on `fs` with `expected`, the project as `gen` renders it. A file the user
/// owns and changed is `modified`, which fails the check only when `strict`.
pub fn plan_check(
    fs: &dyn Fs,
    project: &Project,
    expected: &Rendered,
    strict: bool,
) -> Result<CheckPlan> {
    let mut plan = CheckPlan::default();
    check_files(fs, expected, strict, &mut plan)?;
    check_injections(fs, project, strict, &mut plan)?;
    Ok(plan)
}

fn check_files(fs: &dyn Fs, expected: &Rendered, strict: bool, plan: &mut CheckPlan) -> Result<()> {
    let mut seen = HashSet::new();
    for (path, owner) in &expected.owners {
        // A file several renders touch (an injected one) is checked once, in its final form.
        if !seen.insert(path) {
            continue;
        }
        let want = expected.tree.read(path)?.unwrap_or_default();
        let have = fs.read(path)?;
        let (status, fails) = match &have {
            None => (Status::Missing, true),
            Some(have) if *have == want => {
                plan.current += 1;
                continue;
            }
            Some(_) if *owner == Owner::Gen => (Status::Drifted, true),
            Some(_) => (Status::Modified, strict),
        };
        plan.modified += usize::from(!fails);
        plan.findings.push(Finding {
            status,
            path: path.clone(),
            detail: None,
            fails,
            diff: have.filter(|_| fails).map(|actual| Diff {
                actual,
                expected: want,
            }),
        });
    }
    Ok(())
}

/// A resource whose module declaration, route or feature was taken out is not in the app any
/// more, however the rest of the file was edited.
fn check_injections(
    fs: &dyn Fs,
    project: &Project,
    strict: bool,
    plan: &mut CheckPlan,
) -> Result<()> {
    for inj in project.resources.iter().flat_map(render::resource_injections) {
        let Some(bytes) = fs.read(inj.path())? else {
            continue;
        };
        let (status, fails) = match inj.apply(&String::from_utf8_lossy(&bytes)) {
            Outcome::AlreadyPresent => continue,
            Outcome::Injected(_) => (Status::Missing, true),
            Outcome::NoAnchor(_) => (Status::Modified, strict),
        };
        plan.findings.push(Finding {
            status,
            path: inj.path().to_string(),
            detail: Some(inj.snippet()),
            fails,
            diff: None,
        });
    }
    Ok(())
}
