//! The three-way merge of a file the user owns: the user's text, `gen`'s new render, and the
//! base both came from, merged line by line as `git merge` does.
//!
//! The merge itself is diffy's (a maintained implementation of diff3, the algorithm git and GNU
//! `diff3` use), so this module only names the outcome and labels the conflict markers.

use diffy::{ConflictStyle, MergeOptions};

/// The label of the user's side of a conflict.
pub const YOURS: &str = "yours";
/// The label of `gen`'s side of a conflict.
pub const GEN: &str = "gen";

/// What a three-way merge gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Every change fitted: the merged text.
    Clean(Vec<u8>),
    /// Some changes overlapped: the text with git-style conflict markers around each overlap.
    Conflict(Vec<u8>),
}

/// Merges into `yours` the change from `base` to `theirs`.
pub fn three_way(base: &[u8], yours: &[u8], theirs: &[u8]) -> Merged {
    let mut options = MergeOptions::new();
    options.set_conflict_style(ConflictStyle::Merge);
    match options.merge_bytes(base, yours, theirs) {
        Ok(text) => Merged::Clean(text),
        Err(marked) => Merged::Conflict(relabel(&marked)),
    }
}

/// diffy labels the sides `ours` and `theirs`; a user reads `yours` and `gen` better.
fn relabel(marked: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(marked.len() + 16);
    for line in marked.split_inclusive(|b| *b == b'\n') {
        let (text, end) = match line.strip_suffix(b"\n") {
            Some(text) => (text, &b"\n"[..]),
            None => (line, &b""[..]),
        };
        match text {
            b"<<<<<<< ours" => out.extend_from_slice(format!("<<<<<<< {YOURS}").as_bytes()),
            b">>>>>>> theirs" => out.extend_from_slice(format!(">>>>>>> {GEN}").as_bytes()),
            _ => out.extend_from_slice(text),
        }
        out.extend_from_slice(end);
    }
    out
}

/// The conflicting hunks of a marked text, each from its `<<<<<<<` line to its `>>>>>>>` line,
/// with the one-based line number it starts at.
pub fn hunks(marked: &[u8]) -> Vec<(usize, String)> {
    let text = String::from_utf8_lossy(marked);
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        if current.is_none() && line.starts_with("<<<<<<< ") {
            current = Some((i + 1, String::new()));
        }
        if let Some((_, hunk)) = &mut current {
            hunk.push_str(line);
            hunk.push('\n');
        }
        if line.starts_with(">>>>>>> ")
            && let Some(done) = current.take()
        {
            out.push(done);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_to_different_lines_merge_cleanly() {
        let base = b"a\nb\nc\nd\n";
        let yours = b"a\nB (mine)\nc\nd\n";
        let theirs = b"a\nb\nc\nd\ne (new field)\n";
        assert_eq!(
            three_way(base, yours, theirs),
            Merged::Clean(b"a\nB (mine)\nc\nd\ne (new field)\n".to_vec())
        );
        // A file the user never edited simply becomes the new render.
        assert_eq!(
            three_way(base, base, theirs),
            Merged::Clean(theirs.to_vec())
        );
    }

    #[test]
    fn an_overlap_is_a_conflict_with_labelled_markers() {
        let base = b"a\nb\nc\n";
        let yours = b"a\nmine\nc\n";
        let theirs = b"a\nb, pinned\nc\n";
        let Merged::Conflict(marked) = three_way(base, yours, theirs) else {
            panic!("an overlap merged cleanly");
        };
        let text = String::from_utf8(marked.clone()).unwrap();
        assert_eq!(
            text,
            "a\n<<<<<<< yours\nmine\n=======\nb, pinned\n>>>>>>> gen\nc\n"
        );
        assert_eq!(
            hunks(&marked),
            [(
                2,
                "<<<<<<< yours\nmine\n=======\nb, pinned\n>>>>>>> gen\n".to_owned()
            )]
        );
    }
}
