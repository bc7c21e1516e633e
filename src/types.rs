//! The one table from a field type to its SQL column type, Rust type and form input, per database.

use serde::{Deserialize, Serialize};

use crate::spec::FieldType;

/// The database an app is generated for, recorded in `gen.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Database {
    #[default]
    Sqlite,
}

impl Database {
    pub fn as_str(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
        }
    }
}

/// The HTML control a field is edited with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// `<input type="text">`.
    Text,
    /// `<textarea>`.
    Textarea,
    /// `<input type="number" step="1">`.
    Integer,
    /// `<input type="number" step="any">`.
    Decimal,
    /// `<input type="checkbox">`.
    Checkbox,
    /// `<input type="date">`.
    Date,
    /// `<input type="datetime-local">`.
    Datetime,
}

/// How one field type is stored and edited on one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TypeInfo {
    /// The column type in a migration.
    pub sql: &'static str,
    /// The Rust type of the model's field, before `Option` for optional fields.
    pub rust: &'static str,
    pub input: Input,
}

/// The mapping, in one place so no template decides a type on its own.
pub fn type_info(database: Database, ty: FieldType) -> TypeInfo {
    use FieldType as T;
    let (sql, rust, input) = match (database, ty) {
        (Database::Sqlite, T::String) => ("TEXT", "String", Input::Text),
        (Database::Sqlite, T::Text) => ("TEXT", "String", Input::Textarea),
        (Database::Sqlite, T::Integer) => ("INTEGER", "i32", Input::Integer),
        (Database::Sqlite, T::Bigint) => ("BIGINT", "i64", Input::Integer),
        (Database::Sqlite, T::Float) => ("REAL", "f64", Input::Decimal),
        // SQLite has no exact decimal type and NUMERIC affinity would round-trip through a float,
        // so the canonical decimal text is stored as is and validated on the way in.
        (Database::Sqlite, T::Decimal) => ("TEXT", "String", Input::Decimal),
        (Database::Sqlite, T::Boolean) => ("BOOLEAN", "bool", Input::Checkbox),
        (Database::Sqlite, T::Date) => ("DATE", "chrono::NaiveDate", Input::Date),
        (Database::Sqlite, T::Datetime) => {
            ("DATETIME", "chrono::DateTime<chrono::Utc>", Input::Datetime)
        }
        (Database::Sqlite, T::Uuid) => ("BLOB", "uuid::Uuid", Input::Text),
        (Database::Sqlite, T::Json) => ("TEXT", "serde_json::Value", Input::Textarea),
        (Database::Sqlite, T::References) => ("INTEGER", "i64", Input::Integer),
    };
    TypeInfo { sql, rust, input }
}

/// A valid form value of a field type for generated tests: `n` is 1 for the value a record is
/// created with and 2 for the value it is edited to, so the two always differ. A reference is
/// always `1`, the first record of the referenced resource, which the tests create first. An
/// empty string is an unchecked checkbox, which browsers do not send at all.
pub fn sample(ty: FieldType, label: &str, n: u8) -> String {
    use FieldType as T;
    let ordinal = if n == 1 { "first" } else { "second" };
    match ty {
        T::String | T::Text => format!("{ordinal} {}", label.to_lowercase()),
        T::Integer => format!("{}", 40 + u32::from(n)),
        T::Bigint => format!("{}", 9_000_000_000u64 + u64::from(n)),
        T::Float => format!("{n}.5"),
        T::Decimal => format!("{n}.25"),
        T::Boolean => if n == 1 { "1" } else { "" }.to_owned(),
        T::Date => format!("2026-01-{:02}", 10 + n),
        T::Datetime => format!("2026-01-{:02}T09:30", 10 + n),
        T::Uuid => format!("00000000-0000-4000-8000-{n:012}"),
        T::Json => format!("[{n}]"),
        T::References => "1".to_owned(),
    }
}
