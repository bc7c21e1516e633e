//! Stage one: the resource spec, parsed from CLI field tokens or a TOML spec file into one `ResourceSpec`.

use std::fmt::Write as _;
use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::naming::suggest;

/// A column type a field can have, as written in `name:type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    String,
    Text,
    Integer,
    Bigint,
    Float,
    Decimal,
    Boolean,
    Date,
    Datetime,
    Uuid,
    Json,
    References,
    /// One file, kept in the app's blobs rather than in a column of the record's table.
    Attachment,
    /// Any number of files, kept as `Attachment` is.
    Attachments,
}

impl FieldType {
    pub const ALL: [FieldType; 14] = [
        FieldType::String,
        FieldType::Text,
        FieldType::Integer,
        FieldType::Bigint,
        FieldType::Float,
        FieldType::Decimal,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Uuid,
        FieldType::Json,
        FieldType::References,
        FieldType::Attachment,
        FieldType::Attachments,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Bigint => "bigint",
            FieldType::Float => "float",
            FieldType::Decimal => "decimal",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Uuid => "uuid",
            FieldType::Json => "json",
            FieldType::References => "references",
            FieldType::Attachment => "attachment",
            FieldType::Attachments => "attachments",
        }
    }

    /// Whether values of the type are files, which live in the blobs and not in a column.
    pub fn is_attachment(self) -> bool {
        matches!(self, FieldType::Attachment | FieldType::Attachments)
    }

    pub fn parse(word: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.as_str() == word)
    }
}

/// A word after the type in `name:type:modifier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Optional,
    Unique,
    Index,
}

impl Modifier {
    const ALL: [(&'static str, Modifier); 3] = [
        ("optional", Modifier::Optional),
        ("unique", Modifier::Unique),
        ("index", Modifier::Index),
    ];
}

/// A kind of file an attachment field takes, written as a modifier (`photo:attachment:image`).
/// A field with none takes any file; with several, a file of any of them. What each kind lets
/// through is decided from the file's bytes, by the app's storage runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Accept {
    /// PNG, JPEG, GIF and WebP: the raster images a browser shows and a thumbnail is made of.
    /// SVG is not one: it is a document that may carry scripts.
    Image,
    /// MP4, WebM and QuickTime video.
    Video,
    /// MP3, Ogg, WAV, FLAC, AAC and M4A audio.
    Audio,
    /// PDF documents.
    Pdf,
}

impl Accept {
    /// Every kind, in the order a token writes them.
    pub const ALL: [Accept; 4] = [Accept::Image, Accept::Video, Accept::Audio, Accept::Pdf];

    pub fn as_str(self) -> &'static str {
        match self {
            Accept::Image => "image",
            Accept::Video => "video",
            Accept::Audio => "audio",
            Accept::Pdf => "pdf",
        }
    }

    pub fn parse(word: &str) -> Option<Accept> {
        Accept::ALL.into_iter().find(|a| a.as_str() == word)
    }
}

/// Where a new record goes in its collection on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Insert {
    #[default]
    Append,
    Prepend,
}

impl Insert {
    pub fn as_str(self) -> &'static str {
        match self {
            Insert::Append => "append",
            Insert::Prepend => "prepend",
        }
    }
}

/// One field as the user wrote it, before any naming decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub ty: FieldType,
    pub optional: bool,
    pub unique: bool,
    pub index: bool,
    /// The most characters a `string` or `text` value may have, from `max=N`; `None` is the
    /// type's default.
    pub max: Option<usize>,
    /// The column's default, from `default=VALUE` (always the last modifier, so the value may
    /// hold `:`); checked against the type when the field is lowered.
    pub default: Option<String>,
    /// The kinds of file an attachment field takes, in [`Accept::ALL`] order; empty for any file
    /// and for every other type.
    pub accept: Vec<Accept>,
}

impl FieldSpec {
    /// The token this field is written as on the command line and in a spec file.
    pub fn token(&self) -> String {
        let mut token = format!("{}:{}", self.name, self.ty.as_str());
        for (word, on) in [
            ("optional", self.optional),
            ("unique", self.unique),
            ("index", self.index),
        ] {
            if on {
                token.push(':');
                token.push_str(word);
            }
        }
        for accept in &self.accept {
            token.push(':');
            token.push_str(accept.as_str());
        }
        if let Some(max) = self.max {
            write!(token, ":max={max}").unwrap();
        }
        if let Some(default) = &self.default {
            write!(token, ":default={default}").unwrap();
        }
        token
    }

    /// The type and modifiers without the name, as a spec file's `[fields]` table holds them.
    fn type_token(&self) -> String {
        self.token()[self.name.len() + 1..].to_string()
    }
}

/// A resource as specified: its name as given, its fields and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    pub name: String,
    pub fields: Vec<FieldSpec>,
    pub insert: Insert,
    pub optimistic: bool,
    /// Changes broadcast a page `refresh` (morphed in place) instead of per-record streams.
    pub refresh: bool,
    /// The `references` field whose resource this one is nested under.
    pub parent: Option<String>,
    /// How many records a page of the list holds; the runtime's default (50) when absent.
    pub per_page: Option<u32>,
    /// The migration's sequence number; chosen by `gen resource` when absent.
    pub migration: Option<u64>,
    /// Whose records these are: `Some("user")` makes every record belong to the signed-in user
    /// who created it (`--scope user`); the only scope there is.
    pub scope: Option<String>,
    /// Every action needs a signed-in user, but the records are shared (`--authenticated`).
    pub authenticated: bool,
    /// The fields `gen field add|remove` changed since, in order, each with its migration
    /// (see `history`).
    pub changes: Vec<crate::history::FieldChange>,
}

/// The one scope a resource can have: the signed-in user, whose records it holds.
pub const USER_SCOPE: &str = "user";

/// The most records one page may hold: more would make a page as heavy as the unpaginated list
/// that pagination is there to avoid.
pub const MAX_PER_PAGE: u32 = 1000;

/// Parses one CLI field token such as `title:string:optional:unique`.
pub fn parse_field(token: &str) -> Result<FieldSpec, String> {
    let mut parts = token.split(':');
    let name = parts.next().unwrap_or_default();
    if name.is_empty() {
        return Err(format!("empty field name in \"{token}\""));
    }
    let Some(ty_word) = parts.next() else {
        return Err(format!(
            "missing field type in \"{token}\"; write it as name:type, for example \"{name}:string\""
        ));
    };
    parse_type_and_modifiers(name, ty_word, parts, token)
}

fn parse_type_and_modifiers<'a>(
    name: &str,
    ty_word: &str,
    modifiers: impl Iterator<Item = &'a str>,
    token: &str,
) -> Result<FieldSpec, String> {
    let Some(ty) = FieldType::parse(ty_word) else {
        let mut msg = if ty_word.is_empty() {
            format!("missing field type in \"{token}\"")
        } else {
            format!("unknown field type \"{ty_word}\" in \"{token}\"")
        };
        match suggest(ty_word, FieldType::ALL.iter().map(|t| t.as_str())) {
            Some(s) => write!(msg, "; did you mean \"{s}\"?").unwrap(),
            None => write!(
                msg,
                "; the types are {}",
                FieldType::ALL.map(FieldType::as_str).join(", ")
            )
            .unwrap(),
        }
        return Err(msg);
    };
    let mut field = FieldSpec {
        name: name.to_string(),
        ty,
        optional: false,
        unique: false,
        index: false,
        max: None,
        default: None,
        accept: Vec::new(),
    };
    let mut modifiers = modifiers.peekable();
    while let Some(word) = modifiers.next() {
        if ty.is_attachment() {
            parse_attachment_modifier(&mut field, word, token)?;
            continue;
        }
        if Accept::parse(word).is_some() {
            return Err(format!(
                "modifier \"{word}\" in \"{token}\" applies only to attachment and attachments fields"
            ));
        }
        if let Some(first) = word.strip_prefix("default=") {
            // The rest of the token is the value, colons and all (`default=12:30`).
            let mut value = first.to_owned();
            for rest in modifiers.by_ref() {
                value.push(':');
                value.push_str(rest);
            }
            field.default = Some(value);
            break;
        }
        if let Some(value) = word.strip_prefix("max=") {
            field.max = Some(parse_max(value, ty, field.max, token)?);
            continue;
        }
        let Some((_, modifier)) = Modifier::ALL.iter().find(|(w, _)| *w == word) else {
            let mut msg = format!("unknown modifier \"{word}\" in \"{token}\"");
            match suggest(word, Modifier::ALL.iter().map(|(w, _)| *w)) {
                Some(s) => write!(msg, "; did you mean \"{s}\"?").unwrap(),
                None => msg
                    .push_str("; the modifiers are optional, unique, index, max=N, default=VALUE"),
            }
            return Err(msg);
        };
        let flag = match modifier {
            Modifier::Optional => &mut field.optional,
            Modifier::Unique => &mut field.unique,
            Modifier::Index => &mut field.index,
        };
        if *flag {
            return Err(format!("modifier \"{word}\" is repeated in \"{token}\""));
        }
        *flag = true;
    }
    Ok(field)
}

/// One modifier of an `attachment` or `attachments` field: a kind of file it takes, or
/// `optional` for a single attachment. The column modifiers have no column to apply to.
fn parse_attachment_modifier(field: &mut FieldSpec, word: &str, token: &str) -> Result<(), String> {
    let many = field.ty == FieldType::Attachments;
    if let Some(accept) = Accept::parse(word) {
        if field.accept.contains(&accept) {
            return Err(format!("modifier \"{word}\" is repeated in \"{token}\""));
        }
        field.accept.push(accept);
        field.accept.sort();
        return Ok(());
    }
    if word == "optional" && !many {
        if field.optional {
            return Err(format!("modifier \"{word}\" is repeated in \"{token}\""));
        }
        field.optional = true;
        return Ok(());
    }
    let ty = field.ty.as_str();
    let words = attachment_modifiers(many);
    let column_word = word == "optional"
        || Modifier::ALL.iter().any(|(w, _)| *w == word)
        || word.starts_with("max=")
        || word.starts_with("default=");
    if column_word {
        let why = if word == "optional" {
            "an attachments field already holds any number of files, none included".to_owned()
        } else {
            format!("an {ty} field's files are kept in the app's blobs, not in a column")
        };
        return Err(format!(
            "modifier \"{word}\" in \"{token}\" does not apply: {why}; the modifiers of an {ty} field are {}",
            words.join(", ")
        ));
    }
    let mut msg = format!("unknown modifier \"{word}\" in \"{token}\"");
    match suggest(word, words.iter().copied()) {
        Some(s) => write!(msg, "; did you mean \"{s}\"?").unwrap(),
        None => write!(
            msg,
            "; the modifiers of an {ty} field are {}",
            words.join(", ")
        )
        .unwrap(),
    }
    Err(msg)
}

/// The modifiers an attachment field takes, as its errors list them.
fn attachment_modifiers(many: bool) -> Vec<&'static str> {
    let mut words: Vec<&str> = if many { Vec::new() } else { vec!["optional"] };
    words.extend(Accept::ALL.map(Accept::as_str));
    words
}

/// The number of a `max=N` modifier: a whole number of characters, at least 1, on a `string` or
/// `text` field, given once.
fn parse_max(
    value: &str,
    ty: FieldType,
    earlier: Option<usize>,
    token: &str,
) -> Result<usize, String> {
    if !matches!(ty, FieldType::String | FieldType::Text) {
        return Err(format!(
            "modifier \"max={value}\" in \"{token}\" applies only to string and text fields"
        ));
    }
    if earlier.is_some() {
        return Err(format!("modifier \"max\" is repeated in \"{token}\""));
    }
    match value.parse::<usize>() {
        Ok(max) if (1..=MAX_LENGTH_LIMIT).contains(&max) => Ok(max),
        _ => Err(format!(
            "modifier \"max={value}\" in \"{token}\" needs a whole number of characters from 1 to {MAX_LENGTH_LIMIT}, for example \"max=80\""
        )),
    }
}

/// The largest `max=N`: a form body is at most 2 MiB, so a longer field could never be sent.
pub const MAX_LENGTH_LIMIT: usize = 2_000_000;

/// Builds a spec from the command line: a name and `name:type` tokens.
pub fn parse_cli(name: &str, tokens: &[String]) -> Result<ResourceSpec> {
    let fields = tokens
        .iter()
        .map(|t| parse_field(t).map_err(Error::Input))
        .collect::<Result<Vec<_>>>()?;
    Ok(ResourceSpec {
        name: name.to_string(),
        fields,
        insert: Insert::default(),
        optimistic: false,
        refresh: false,
        parent: None,
        per_page: None,
        migration: None,
        scope: None,
        authenticated: false,
        changes: Vec::new(),
    })
}

/// The shape of a spec file. Unknown keys are refused so a typo is an error, not a silent default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    migration: Option<u64>,
    #[serde(default)]
    insert: Insert,
    #[serde(default)]
    optimistic: bool,
    #[serde(default)]
    refresh: bool,
    parent: Option<String>,
    per_page: Option<Spanned<i64>>,
    scope: Option<String>,
    #[serde(default)]
    authenticated: bool,
    #[serde(default)]
    fields: IndexMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    changes: Vec<crate::history::ChangeFile>,
}

/// Parses a TOML spec file's text. `origin` names the file in errors, which carry its line and column.
pub fn parse_toml(name: &str, text: &str, origin: &Path) -> Result<ResourceSpec> {
    let file: SpecFile = toml::from_str(text).map_err(|e| {
        let mut msg = format!("invalid spec {}: {}", origin.display(), e.message());
        if let Some(span) = e.span() {
            let (line, col) = line_col(text, span.start);
            msg = format!(
                "{}:{line}:{col}: invalid spec: {}",
                origin.display(),
                e.message()
            );
        }
        Error::Input(msg)
    })?;
    let per_page = match &file.per_page {
        None => None,
        Some(value) => {
            let n = *value.get_ref();
            let within = u32::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PER_PAGE).contains(n));
            let Some(n) = within else {
                let (line, col) = line_col(text, value.span().start);
                return Err(Error::Input(format!(
                    "{}:{line}:{col}: invalid spec: per_page = {n}: a page holds 1 to {MAX_PER_PAGE} records",
                    origin.display()
                )));
            };
            Some(n)
        }
    };
    let mut fields = Vec::with_capacity(file.fields.len());
    for (key, value) in &file.fields {
        let field_name = key.get_ref();
        let token = format!("{field_name}:{}", value.get_ref());
        let mut parts = value.get_ref().split(':');
        let ty_word = parts.next().unwrap_or_default();
        let at = |span: std::ops::Range<usize>| {
            let (line, col) = line_col(text, span.start);
            format!("{}:{line}:{col}", origin.display())
        };
        if field_name.is_empty() {
            return Err(Error::Input(format!(
                "{}: empty field name",
                at(key.span())
            )));
        }
        let field = parse_type_and_modifiers(field_name, ty_word, parts, &token)
            .map_err(|m| Error::Input(format!("{}: {m}", at(value.span()))))?;
        fields.push(field);
    }
    Ok(ResourceSpec {
        name: name.to_string(),
        fields,
        insert: file.insert,
        optimistic: file.optimistic,
        refresh: file.refresh,
        parent: file.parent,
        per_page,
        migration: file.migration,
        scope: file.scope,
        authenticated: file.authenticated,
        changes: crate::history::parse_changes(file.changes, text, origin)?,
    })
}

/// One-based line and column of a byte offset, counted in characters as editors do.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// The spec file `gen resource` records, from which `gen check` and `gen destroy` re-render.
pub fn to_toml(spec: &ResourceSpec) -> String {
    let mut out = format!(
        "# The spec of the `{name}` resource. `gen check` and `gen destroy` re-render it from this\n\
         # file; after editing it, `gen resource {name} --spec specs/{name}.toml --force` regenerates.\n",
        name = spec.name
    );
    if let Some(n) = spec.migration {
        writeln!(out, "migration = {n}").unwrap();
    }
    writeln!(out, "insert = \"{}\"", spec.insert.as_str()).unwrap();
    writeln!(out, "optimistic = {}", spec.optimistic).unwrap();
    // Written only when set, so the specs of apps made before the option stay byte-identical.
    if spec.refresh {
        writeln!(out, "refresh = true").unwrap();
    }
    if let Some(parent) = &spec.parent {
        writeln!(out, "parent = {}", toml_string(parent)).unwrap();
    }
    // Written only when set, like `refresh`.
    if let Some(per_page) = spec.per_page {
        writeln!(out, "per_page = {per_page}").unwrap();
    }
    // Written only when set, like `refresh`: a spec without them is a public resource.
    if let Some(scope) = &spec.scope {
        writeln!(out, "scope = {}", toml_string(scope)).unwrap();
    }
    if spec.authenticated {
        writeln!(out, "authenticated = true").unwrap();
    }
    out.push_str("\n[fields]\n");
    for field in &spec.fields {
        writeln!(out, "{} = {}", field.name, toml_string(&field.type_token())).unwrap();
    }
    crate::history::write_changes(&mut out, &spec.changes);
    out
}

pub(crate) fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modifiers_in_any_order() {
        let f = parse_field("title:string:unique:optional").unwrap();
        assert_eq!(f.ty, FieldType::String);
        assert!(f.optional && f.unique && !f.index);
        assert_eq!(f.token(), "title:string:optional:unique");
    }

    #[test]
    fn max_sets_a_length_on_text_fields_only() {
        let f = parse_field("title:string:max=80:optional").unwrap();
        assert_eq!(f.max, Some(80));
        assert_eq!(f.token(), "title:string:optional:max=80");
        assert_eq!(parse_field("body:text").unwrap().max, None);
        for (token, says) in [
            ("title:string:max=0", "from 1 to"),
            ("title:string:max=abc", "\"max=abc\""),
            ("title:string:max=", "\"max=\""),
            ("title:string:max=5:max=6", "repeated"),
            ("age:integer:max=5", "only to string and text"),
        ] {
            let e = parse_field(token).unwrap_err();
            assert!(e.contains(says) && e.contains(token), "{token}: {e}");
        }
    }

    #[test]
    fn per_page_is_a_count_from_1_to_the_maximum_and_round_trips() {
        let origin = Path::new("specs/message.toml");
        let spec = parse_toml(
            "message",
            "per_page = 25\n[fields]\nbody = \"text\"\n",
            origin,
        )
        .unwrap();
        assert_eq!(spec.per_page, Some(25));
        let again = parse_toml("message", &to_toml(&spec), origin).unwrap();
        assert_eq!(again, spec);
        let unset = parse_toml("message", "[fields]\nbody = \"text\"\n", origin).unwrap();
        assert!(!to_toml(&unset).contains("per_page"), "absent stays absent");
        for bad in ["0", "-1", "1001", "99999999999"] {
            let text = format!("per_page = {bad}\n[fields]\nbody = \"text\"\n");
            let e = parse_toml("message", &text, origin)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("per_page = {bad}")) && e.contains("specs/message.toml:1:"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn unknown_type_suggests_the_nearest() {
        let e = parse_field("body:strng").unwrap_err();
        assert_eq!(
            e,
            "unknown field type \"strng\" in \"body:strng\"; did you mean \"string\"?"
        );
    }

    #[test]
    fn unknown_modifier_suggests_the_nearest() {
        let e = parse_field("body:text:optinal").unwrap_err();
        assert!(e.contains("\"optinal\"") && e.contains("did you mean \"optional\""));
    }

    #[test]
    fn attachments_take_kinds_of_file() {
        let f = parse_field("avatar:attachment:pdf:optional:image").unwrap();
        assert_eq!(f.ty, FieldType::Attachment);
        assert!(f.optional);
        assert_eq!(f.accept, [Accept::Image, Accept::Pdf]);
        assert_eq!(f.token(), "avatar:attachment:optional:image:pdf");
        let many = parse_field("files:attachments").unwrap();
        assert_eq!(many.ty, FieldType::Attachments);
        assert!(many.accept.is_empty() && !many.optional);
        assert!(FieldType::Attachments.is_attachment() && !FieldType::Text.is_attachment());
    }

    #[test]
    fn attachment_modifiers_are_checked_and_named() {
        for (token, says) in [
            (
                "photo:attachment:imag",
                "unknown modifier \"imag\" in \"photo:attachment:imag\"; did you mean \"image\"?",
            ),
            (
                "photo:attachments:vidoe",
                "unknown modifier \"vidoe\" in \"photo:attachments:vidoe\"; did you mean \"video\"?",
            ),
            (
                "photo:attachment:zzzzzz",
                "; the modifiers of an attachment field are optional, image, video, audio, pdf",
            ),
            (
                "files:attachments:optional",
                "modifier \"optional\" in \"files:attachments:optional\" does not apply: an attachments field already holds any number of files, none included; the modifiers of an attachments field are image, video, audio, pdf",
            ),
            (
                "photo:attachment:unique",
                "modifier \"unique\" in \"photo:attachment:unique\" does not apply: an attachment field's files are kept in the app's blobs, not in a column",
            ),
            (
                "photo:attachment:index",
                "\"index\" in \"photo:attachment:index\" does not apply",
            ),
            (
                "photo:attachment:max=5",
                "\"max=5\" in \"photo:attachment:max=5\" does not apply",
            ),
            (
                "photo:attachment:default=x",
                "\"default=x\" in \"photo:attachment:default=x\" does not apply",
            ),
            (
                "photo:attachment:image:image",
                "modifier \"image\" is repeated in \"photo:attachment:image:image\"",
            ),
            (
                "photo:attachment:optional:optional",
                "modifier \"optional\" is repeated",
            ),
            (
                "title:string:image",
                "modifier \"image\" in \"title:string:image\" applies only to attachment and attachments fields",
            ),
        ] {
            let e = parse_field(token).unwrap_err();
            assert!(e.contains(says), "{token}: {e}");
        }
        let e = parse_field("photo:attachement").unwrap_err();
        assert!(e.contains("did you mean \"attachment\""), "{e}");
    }

    #[test]
    fn attachment_fields_round_trip_through_a_spec_file() {
        let text = "[fields]\ncaption = \"string\"\nphoto = \"attachment:image\"\nfiles = \"attachments\"\n";
        let mut spec = parse_toml("photo", text, Path::new("p.toml")).unwrap();
        assert_eq!(spec.fields[1].accept, [Accept::Image]);
        spec.migration = Some(3);
        let again = parse_toml("photo", &to_toml(&spec), Path::new("p.toml")).unwrap();
        assert_eq!(again, spec);
        let e = parse_toml(
            "photo",
            "[fields]\nphoto = \"attachment:imgae\"\n",
            Path::new("specs/photo.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("specs/photo.toml:2:9: ") && e.contains("did you mean \"image\""),
            "{e}"
        );
    }

    #[test]
    fn toml_and_cli_lower_to_the_same_spec() {
        let cli = parse_cli(
            "message",
            &["body:text".into(), "room:references:index".into()],
        )
        .unwrap();
        let text = "[fields]\nbody = \"text\"\nroom = \"references:index\"\n";
        let file = parse_toml("message", text, Path::new("m.toml")).unwrap();
        assert_eq!(cli, file);
    }

    #[test]
    fn toml_round_trips() {
        let mut spec = parse_cli(
            "message",
            &["body:text:max=500".into(), "room:references".into()],
        )
        .unwrap();
        spec.migration = Some(2);
        spec.parent = Some("room".into());
        spec.insert = Insert::Prepend;
        spec.scope = Some("user".into());
        spec.authenticated = true;
        let again = parse_toml("message", &to_toml(&spec), Path::new("m.toml")).unwrap();
        assert_eq!(spec, again);
    }

    #[test]
    fn toml_errors_point_at_line_and_column() {
        let text = "insert = \"append\"\n\n[fields]\nbody = \"txt\"\n";
        let e = parse_toml("message", text, Path::new("specs/message.toml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("specs/message.toml:4:8: "), "{msg}");
        assert!(msg.contains("did you mean \"text\""), "{msg}");

        let e = parse_toml("message", "colour = 1\n", Path::new("s.toml")).unwrap_err();
        assert!(e.to_string().starts_with("s.toml:1:1: "), "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
