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
        (Database::Sqlite, T::Json) => (
            "TEXT",
            "sqlx::types::Json<serde_json::Value>",
            Input::Textarea,
        ),
        (Database::Sqlite, T::References) => ("INTEGER", "i64", Input::Integer),
    };
    TypeInfo { sql, rust, input }
}
