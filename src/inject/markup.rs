//! Injections into templates the user owns: one line of markup placed before a marker comment,
//! such as a resource's link in the layout's header or a nested list on its parent's page.

use super::{Outcome, Reverted};

/// Inserts `line` before the first line holding `marker`, indented like it, unless a line that
/// reads the same (ignoring indentation) is already there.
pub(super) fn inject_line(source: &str, marker: &str, line: &str) -> Result<Outcome, String> {
    if source
        .lines()
        .any(|existing| existing.trim() == line.trim())
    {
        return Ok(Outcome::AlreadyPresent);
    }
    let mut offset = 0;
    for existing in source.split_inclusive('\n') {
        if existing.contains(marker) {
            let indent = &existing[..existing.len() - existing.trim_start().len()];
            let mut text = String::with_capacity(source.len() + indent.len() + line.len() + 1);
            text.push_str(&source[..offset]);
            text.push_str(indent);
            text.push_str(line.trim());
            text.push('\n');
            text.push_str(&source[offset..]);
            return Ok(Outcome::Injected(text));
        }
        offset += existing.len();
    }
    Err(format!("it has no `{marker}` line"))
}

/// Removes the first line that reads `line` (ignoring indentation), if there is one.
pub(super) fn revert_line(source: &str, line: &str) -> Result<Reverted, String> {
    let mut offset = 0;
    for existing in source.split_inclusive('\n') {
        if existing.trim() == line.trim() {
            let text = format!(
                "{}{}",
                &source[..offset],
                &source[offset + existing.len()..]
            );
            return Ok(Reverted::Removed(text));
        }
        offset += existing.len();
    }
    Ok(Reverted::NotPresent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inject::{injected, removed};

    const MARKER: &str = "{# gen: links to resources #}";
    const LAYOUT: &str =
        "<nav>\n  <a href=\"/\">Chat</a>\n  {# gen: links to resources #}\n</nav>\n";

    #[test]
    fn a_line_goes_before_the_marker_with_its_indent_and_only_once() {
        let rooms = "<a href=\"/rooms\">Rooms</a>";
        let once = injected(inject_line(LAYOUT, MARKER, rooms).unwrap());
        assert_eq!(
            once,
            "<nav>\n  <a href=\"/\">Chat</a>\n  <a href=\"/rooms\">Rooms</a>\n  {# gen: links to resources #}\n</nav>\n"
        );
        assert_eq!(
            inject_line(&once, MARKER, rooms),
            Ok(Outcome::AlreadyPresent)
        );
        let twice = injected(inject_line(&once, MARKER, "<a href=\"/posts\">Posts</a>").unwrap());
        assert!(
            twice.contains("Rooms</a>\n  <a href=\"/posts\">Posts</a>\n  {# gen"),
            "{twice}"
        );
    }

    #[test]
    fn reverting_removes_the_line_and_keeps_the_rest_byte_for_byte() {
        let rooms = "<a href=\"/rooms\">Rooms</a>";
        let once = injected(inject_line(LAYOUT, MARKER, rooms).unwrap());
        assert_eq!(removed(revert_line(&once, rooms).unwrap()), LAYOUT);
        assert_eq!(revert_line(LAYOUT, rooms), Ok(Reverted::NotPresent));
    }

    #[test]
    fn a_template_without_the_marker_has_no_anchor() {
        let e = inject_line("<nav></nav>\n", MARKER, "<a>x</a>").unwrap_err();
        assert!(e.contains(MARKER), "{e}");
    }
}
