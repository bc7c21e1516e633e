//! Injections into text files no parser here reads: the account menu in the layout's header and
//! the accounts section of the README. Each is found by an exact anchor, and is idempotent by a
//! marker only the injected text carries.

use super::{Outcome, Reverted};

/// What marks the account menu in the layout.
const MENU_MARKER: &str = "id=\"account_menu\"";

/// The frame that loads the account menu into the header of every page.
pub(super) fn menu_line() -> String {
    format!("<turbo-frame {MENU_MARKER} src=\"/account/menu\" target=\"_top\"></turbo-frame>")
}

/// Adds the account menu as the last item of the header's `<nav>`, indented one step inside it.
pub(super) fn inject_menu(source: &str) -> Result<Outcome, String> {
    if source.contains(MENU_MARKER) {
        return Ok(Outcome::AlreadyPresent);
    }
    let header = source
        .find("<header")
        .ok_or_else(|| "it has no `<header>`".to_string())?;
    let close = source[header..]
        .find("</nav>")
        .map(|at| header + at)
        .ok_or_else(|| "its `<header>` has no `</nav>`".to_string())?;
    let line_start = source[..close].rfind('\n').map_or(0, |i| i + 1);
    let indent = &source[line_start..close];
    if !indent.chars().all(|c| c == ' ') {
        return Err("its `</nav>` does not start a line".into());
    }
    Ok(Outcome::Injected(format!(
        "{}{indent}  {}\n{}",
        &source[..line_start],
        menu_line(),
        &source[line_start..]
    )))
}

pub(super) fn revert_menu(source: &str) -> Result<Reverted, String> {
    let Some(at) = source.find(MENU_MARKER) else {
        return Ok(Reverted::NotPresent);
    };
    let start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = source[at..].find('\n').map_or(source.len(), |i| at + i + 1);
    Ok(Reverted::Removed(format!(
        "{}{}",
        &source[..start],
        &source[end..]
    )))
}

/// Appends `section` (which starts with its heading line) to the README, once.
pub(super) fn inject_section(source: &str, section: &str) -> Result<Outcome, String> {
    let heading = section.lines().next().unwrap_or_default();
    if source.lines().any(|line| line == heading) {
        return Ok(Outcome::AlreadyPresent);
    }
    let mut text = source.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(section);
    Ok(Outcome::Injected(text))
}

pub(super) fn revert_section(source: &str, section: &str) -> Result<Reverted, String> {
    let ending = format!("\n\n{section}");
    match source.strip_suffix(&ending) {
        Some(before) => Ok(Reverted::Removed(format!("{before}\n"))),
        None if source.contains(section) => Ok(Reverted::Removed(source.replacen(section, "", 1))),
        None => Ok(Reverted::NotPresent),
    }
}

#[cfg(test)]
mod tests {
    use crate::inject::{Injection, Outcome, injected, removed};

    const LAYOUT: &str = "<body>\n    <header class=\"site-header\">\n      <nav class=\"container\">\n        <a class=\"brand\" href=\"/\">Chat</a>\n      </nav>\n    </header>\n</body>\n";

    #[test]
    fn the_menu_goes_last_in_the_header_nav_once_and_reverts_exactly() {
        let out = injected(Injection::AccountMenu.apply(LAYOUT));
        assert!(
            out.contains("Chat</a>\n        <turbo-frame id=\"account_menu\" src=\"/account/menu\" target=\"_top\"></turbo-frame>\n      </nav>"),
            "{out}"
        );
        assert_eq!(Injection::AccountMenu.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(Injection::AccountMenu.revert(&out)), LAYOUT);
        let without = Injection::AccountMenu.apply("<main></main>\n");
        assert!(matches!(without, Outcome::NoAnchor(_)), "{without:?}");
    }

    #[test]
    fn a_section_is_appended_once_and_reverts_exactly() {
        let readme = "# Chat\n\nAn app.\n";
        let inj = Injection::ReadmeSection {
            text: "## Accounts\n\nSign in.\n".to_owned(),
        };
        let out = injected(inj.apply(readme));
        assert_eq!(out, "# Chat\n\nAn app.\n\n## Accounts\n\nSign in.\n");
        assert_eq!(inj.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(inj.revert(&out)), readme);
    }
}
