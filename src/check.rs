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
    check_bases(fs, expected, strict, &mut plan)?;
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

/// The pristine renders under `.gen/base/` are `gen`'s own, compared with the render as a file
/// `gen` keeps current is. One that differs says that the scaffolds changed since the file was
/// written (a newer `gen`, an override), which `gen update` merges: it is reported as drifted,
/// and fails only when `strict`, since the files themselves are the user's. A missing one is no
/// finding: an app made before bases were kept has none, and the merges fall back to the render
/// of its specs.
fn check_bases(fs: &dyn Fs, expected: &Rendered, strict: bool, plan: &mut CheckPlan) -> Result<()> {
    for path in crate::base::owned_paths(expected) {
        let at = crate::base::base_path(path);
        let Some(have) = fs.read(&at)? else {
            continue;
        };
        let want = expected.tree.read(path)?.unwrap_or_default();
        if have == want {
            plan.current += 1;
            continue;
        }
        plan.findings.push(Finding {
            status: Status::Drifted,
            path: at,
            detail: Some("the scaffolds changed since; `gen update` merges them".to_owned()),
            fails: strict,
            diff: strict.then_some(Diff {
                actual: have,
                expected: want,
            }),
        });
    }
    Ok(())
}

/// A resource (or the accounts) whose module declaration, route or feature was taken out is not
/// in the app any more, however the rest of the file was edited.
fn check_injections(
    fs: &dyn Fs,
    project: &Project,
    strict: bool,
    plan: &mut CheckPlan,
) -> Result<()> {
    let scaffolds = crate::project::scaffolds(fs)?;
    let auth = crate::project::auth_injections(project, &scaffolds)?;
    for inj in project
        .resources
        .iter()
        .flat_map(|r| render::resource_injections(&project.app, r))
        .chain(auth)
    {
        let Some(bytes) = fs.read(inj.path())? else {
            continue;
        };
        let (status, fails) = match inj.apply(&String::from_utf8_lossy(&bytes)) {
            Outcome::AlreadyPresent => continue,
            // Prose the user took out of their README is theirs to take out.
            Outcome::Injected(_) if !inj.builds_the_app() => (Status::Modified, strict),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;
    use crate::project::{self, render_all};
    use crate::render::Scaffolds;
    use crate::testing::{self, text};

    const ROOM: &[&str] = &["room", "name:string"];
    const MESSAGE: &[&str] = &["message", "body:text", "room:references"];

    fn check(fs: &MemFs, project: &Project, strict: bool) -> CheckPlan {
        let scaffolds = project::scaffolds(fs).unwrap();
        let expected = render_all(project, &scaffolds).unwrap();
        plan_check(fs, project, &expected, strict).unwrap()
    }

    fn found(plan: &CheckPlan) -> Vec<(Status, &str, bool)> {
        plan.findings
            .iter()
            .map(|f| (f.status, f.path.as_str(), f.fails))
            .collect()
    }

    fn edit(fs: &mut MemFs, path: &str, from: &str, to: &str) {
        let before = text(fs, path);
        assert!(before.contains(from), "{path} has no {from:?}");
        fs.write(path, before.replacen(from, to, 1).as_bytes())
            .unwrap();
    }

    #[test]
    fn an_app_as_gen_left_it_is_current() {
        let (fs, project) = testing::app(&[ROOM, MESSAGE]);
        let plan = check(&fs, &project, true);
        assert_eq!(found(&plan), []);
        let rendered = render_all(&project, &Scaffolds::builtin()).unwrap();
        assert_eq!(plan.current, rendered.tree.files.len());
        assert_eq!(plan.current, fs.files.len());
        assert_eq!((plan.modified, plan.failures()), (0, 0));
        assert_eq!(plan.outcome(), Ok(()));
    }

    #[test]
    fn a_drifted_generated_file_fails_with_its_diff() {
        let (mut fs, project) = testing::app(&[ROOM]);
        let before = fs.files["src/turbo/mod.rs"].clone();
        edit(&mut fs, "src/turbo/mod.rs", "pub mod", "pub(crate) mod");
        let plan = check(&fs, &project, false);
        assert_eq!(found(&plan), [(Status::Drifted, "src/turbo/mod.rs", true)]);
        let diff = plan.findings[0].diff.as_ref().expect("a diff");
        assert_eq!(diff.expected, before);
        assert_eq!(diff.actual, fs.files["src/turbo/mod.rs"]);
        let err = plan.outcome().unwrap_err();
        assert!(matches!(err, Error::CheckFailed(_)), "{err:?}");
        assert!(
            err.to_string().starts_with("1 generated file is missing"),
            "{err}"
        );
    }

    #[test]
    fn a_modified_user_file_fails_only_when_strict() {
        let (mut fs, project) = testing::app(&[ROOM]);
        edit(
            &mut fs,
            "templates/rooms/_room.html",
            "<",
            "<!-- mine -->\n<",
        );
        let lenient = check(&fs, &project, false);
        assert_eq!(
            found(&lenient),
            [(Status::Modified, "templates/rooms/_room.html", false)]
        );
        assert_eq!((lenient.modified, lenient.failures()), (1, 0));
        assert_eq!(lenient.findings[0].diff, None);
        assert_eq!(lenient.outcome(), Ok(()));

        let strict = check(&fs, &project, true);
        assert_eq!(
            found(&strict),
            [(Status::Modified, "templates/rooms/_room.html", true)]
        );
        assert_eq!((strict.modified, strict.failures()), (0, 1));
        assert!(strict.findings[0].diff.is_some());
        assert!(strict.outcome().is_err());
    }

    #[test]
    fn a_missing_file_fails_without_a_diff() {
        let (mut fs, project) = testing::app(&[ROOM]);
        fs.remove("src/rooms/broadcasts.rs").unwrap();
        let plan = check(&fs, &project, false);
        assert_eq!(
            found(&plan),
            [(Status::Missing, "src/rooms/broadcasts.rs", true)]
        );
        assert_eq!(plan.findings[0].diff, None);
        assert_eq!(plan.current, fs.files.len());
    }

    #[test]
    fn a_removed_injection_is_missing_whatever_else_the_file_holds() {
        let (mut fs, project) = testing::app(&[ROOM, MESSAGE]);
        edit(&mut fs, "src/lib.rs", "pub mod messages;\n", "");
        let plan = check(&fs, &project, false);
        assert_eq!(
            found(&plan),
            [
                (Status::Modified, "src/lib.rs", false),
                (Status::Missing, "src/lib.rs", true),
            ]
        );
        assert_eq!(
            plan.findings[1].detail.as_deref(),
            Some("pub mod messages;")
        );
        // Only files count as modified by the user; the injection is a failure.
        assert_eq!((plan.modified, plan.failures()), (1, 1));
    }

    #[test]
    fn an_injection_whose_anchor_is_gone_is_modified() {
        let (mut fs, project) = testing::app(&[ROOM]);
        fs.write("src/lib.rs", b"//! Mine now.\n").unwrap();
        let plan = check(&fs, &project, false);
        assert_eq!(
            found(&plan),
            [
                (Status::Modified, "src/lib.rs", false),
                (Status::Modified, "src/lib.rs", false),
            ]
        );
        let strict = check(&fs, &project, true);
        assert_eq!(strict.failures(), 2);
    }
}
