//! Every naming decision: inflection, case forms, keyword escaping, reserved names and "did you mean".

use heck::{ToKebabCase, ToSnakeCase, ToTitleCase, ToUpperCamelCase};
use serde::Serialize;

/// Rust's strict, reserved and edition-2024 keywords. A field with one of these names becomes a raw
/// identifier (`r#type`); a resource may not take one, since it names a module and a struct.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers at all.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Words SQL reserves that a field may plausibly be called, in SQLite or in PostgreSQL (which
/// also refuses its own reserved words, such as `window` or `left`, as column names); such a
/// column is quoted in SQL on both databases.
const SQL_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "array",
    "as",
    "asc",
    "authorization",
    "between",
    "binary",
    "both",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "do",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "index",
    "initially",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "set",
    "similar",
    "some",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// Names a resource cannot take: the app's own modules and the words its layout depends on.
pub const RESERVED_RESOURCES: &[&str] = &[
    "turbo",
    "app",
    "config",
    "main",
    "lib",
    "static",
    // Names the generated handlers already give their locals and page fields, which a record
    // variable of the same name would clash with.
    "form",
    "form_values",
    "valid",
    "stream_name",
    "stream_source",
    "list_id",
    "back_path",
    "summary_id",
    "summary_path",
    "count",
    "id",
];

/// Field names the generated validation uses for its own locals.
pub const RESERVED_FIELD_LOCALS: &[&str] = &["errors"];

/// Columns every resource table has already.
pub const RESERVED_FIELDS: &[&str] = &["id", "created_at", "updated_at"];

pub fn is_rust_keyword(word: &str) -> bool {
    RUST_KEYWORDS.contains(&word)
}

/// The one place an identifier is made safe for Rust: keywords become raw identifiers.
pub fn rust_ident(name: &str) -> String {
    if is_rust_keyword(name) && !NOT_RAW.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// The one place an identifier is made safe for SQL: reserved words are double-quoted.
pub fn sql_ident(name: &str) -> String {
    if SQL_KEYWORDS.contains(&name) {
        format!("\"{name}\"")
    } else {
        name.to_string()
    }
}

/// Checks that a name is an identifier: ASCII letters, digits and underscores, starting with a letter.
/// The error says what is wrong with the token.
pub fn check_identifier(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("empty {what}"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        let shown = match bad {
            ' ' => "a space".to_string(),
            '/' | '\\' => format!("a path separator \"{bad}\""),
            '.' if name.contains("..") => "\"..\"".to_string(),
            c => format!("\"{c}\""),
        };
        return Err(format!(
            "{what} \"{name}\" contains {shown}; use letters, digits and underscores"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("{what} \"{name}\" must start with a letter"));
    }
    Ok(())
}

/// Every form of a resource's name, decided once and read by every template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Names {
    /// `blog_post`: the record's DOM id prefix and the spec's file name.
    pub singular: String,
    /// `blog_posts`: the module, the table, the template folder and the collection's DOM id.
    pub plural: String,
    /// `BlogPost`: the model struct.
    pub camel: String,
    /// `BlogPosts`: names of types that stand for the collection.
    pub camel_plural: String,
    /// `blog-posts`: the URL path segment.
    pub kebab_plural: String,
    /// `Blog post`: a record in sentences and labels.
    pub human: String,
    /// `Blog posts`: headings.
    pub human_plural: String,
    /// `BLOG_POST`: constants.
    pub upper: String,
}

impl Names {
    /// Derives every form from a singular snake_case name.
    pub fn from_singular(singular: &str) -> Names {
        let plural = pluralize(singular);
        Names {
            camel: singular.to_upper_camel_case(),
            camel_plural: plural.to_upper_camel_case(),
            kebab_plural: plural.to_kebab_case(),
            human: humanize(singular),
            human_plural: humanize(&plural),
            upper: singular.to_uppercase(),
            singular: singular.to_string(),
            plural,
        }
    }
}

/// `blog_post` becomes `Blog post`, as Rails's `humanize`.
pub fn humanize(snake: &str) -> String {
    let words = snake.to_title_case();
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_string() + &chars.as_str().to_lowercase(),
        None => String::new(),
    }
}

/// Normalises what the user typed (`BlogPost`, `blog-post`, `blog_posts`) to a singular snake_case
/// name. Returns the name and whether it was changed from a plural.
pub fn singular_snake(input: &str) -> (String, bool) {
    let snake = input.to_snake_case();
    let (head, last) = split_last_word(&snake);
    let singular_last = pluralizer::pluralize(last, 1, false);
    // Only accept the inflector's singular when pluralizing it gives the word back: this keeps
    // singular words the inflector would mangle (`axis`, `species`) as the user wrote them.
    if singular_last != last && pluralizer::pluralize(&singular_last, 2, false) == last {
        (format!("{head}{singular_last}"), true)
    } else {
        (snake, false)
    }
}

/// Pluralizes the last word of a snake_case name: `blog_post` → `blog_posts`, `person` → `people`.
pub fn pluralize(singular: &str) -> String {
    let (head, last) = split_last_word(singular);
    format!("{head}{}", pluralizer::pluralize(last, 2, false))
}

fn split_last_word(snake: &str) -> (&str, &str) {
    match snake.rfind('_') {
        Some(i) => (&snake[..=i], &snake[i + 1..]),
        None => ("", snake),
    }
}

/// The candidate closest to a mistyped word, when one is close enough to be what was meant.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if word.is_empty() {
        return None;
    }
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irregular_plurals() {
        for (one, many) in [
            ("person", "people"),
            ("category", "categories"),
            ("status", "statuses"),
            ("child", "children"),
            ("message", "messages"),
            ("blog_post", "blog_posts"),
            ("sales_person", "sales_people"),
        ] {
            assert_eq!(pluralize(one), many, "{one}");
            assert_eq!(singular_snake(many), (one.to_string(), true), "{many}");
            assert_eq!(singular_snake(one), (one.to_string(), false), "{one}");
        }
    }

    #[test]
    fn case_forms() {
        let n = Names::from_singular("blog_post");
        assert_eq!(n.camel, "BlogPost");
        assert_eq!(n.camel_plural, "BlogPosts");
        assert_eq!(n.kebab_plural, "blog-posts");
        assert_eq!(n.human, "Blog post");
        assert_eq!(n.human_plural, "Blog posts");
        assert_eq!(singular_snake("BlogPost").0, "blog_post");
        assert_eq!(singular_snake("blog-posts").0, "blog_post");
    }

    #[test]
    fn keywords_are_escaped_once() {
        assert_eq!(rust_ident("type"), "r#type");
        assert_eq!(rust_ident("gen"), "r#gen");
        assert_eq!(rust_ident("body"), "body");
        assert_eq!(sql_ident("order"), "\"order\"");
        assert_eq!(sql_ident("window"), "\"window\"");
        assert_eq!(sql_ident("left"), "\"left\"");
        assert_eq!(sql_ident("type"), "type");
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(check_identifier("name", "ok_1").is_ok());
        assert!(
            check_identifier("name", "1abc")
                .unwrap_err()
                .contains("start with a letter")
        );
        assert!(
            check_identifier("name", "a/b")
                .unwrap_err()
                .contains("path separator")
        );
        assert!(
            check_identifier("name", "a b")
                .unwrap_err()
                .contains("a space")
        );
        assert!(
            check_identifier("name", "..")
                .unwrap_err()
                .contains("\"..\"")
        );
    }
}
