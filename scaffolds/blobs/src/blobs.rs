<% import "shared/rust.jinja" as rust %>
<% set pool = app.sql.pool %>
<% set conn = app.sql.connection %>
//! The app's files: the `Blob` rows of the one blobs table, the attachments that link them to records, their uploads, their serving and their purges.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
<% if accounts %>
use std::sync::{Arc, OnceLock, RwLock};
<% else %>
use std::sync::{Arc, OnceLock};
<% endif %>

use axum::Router;
use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::<%= pool %>;

use crate::app::{AppError, AppState};
<% if accounts %>
use crate::auth::MaybeUser;
<% endif %>
use crate::config::Config;
use crate::extract::Path;
use crate::turbo::forms::{FieldErrors, MAX_FORM_BYTES, has_media_type};
use crate::turbo::storage::serve::BlobMeta;
use crate::turbo::storage::signed::{blob_path, verify_blob_token};
use crate::turbo::storage::variant::{self, ImageInfo};
use crate::turbo::storage::{
    self, Accept, Disk, Key, Storage, StoredBlob, UploadError, UploadLimits,
};

/// The storage and the upload limit the app runs with, chosen once at boot.
#[derive(Clone)]
pub struct Files {
    pub storage: Arc<dyn Storage>,
    pub limits: UploadLimits,
}

static FILES: OnceLock<Files> = OnceLock::new();

/// Opens the storage the environment configures (the bucket of `BUCKET_NAME`, else the disk
/// under `STORAGE_DIR`, `storage/blobs` by default) and reads `MAX_UPLOAD_BYTES`, so a wrong
/// setting stops the app at boot.
pub fn check_config(_config: &Config) -> Result<(), String> {
    let storage = storage_from_env()?;
    let limits = UploadLimits::from_env()?;
    install(Files { storage, limits });
    Ok(())
}

/// The runtime's choice of storage, with the disk's directory from `STORAGE_DIR` when it is set
/// and no bucket is: on Fly.io, a directory on the volume, so files outlive the machine's image.
fn storage_from_env() -> Result<Arc<dyn Storage>, String> {
    let bucket = std::env::var("BUCKET_NAME").is_ok_and(|name| !name.trim().is_empty());
    match std::env::var("STORAGE_DIR") {
        Ok(dir) if !bucket && !dir.trim().is_empty() => Ok(Arc::new(Disk::new(dir.trim()))),
        _ => storage::from_env(),
    }
}

/// Sets the storage the app runs with; the first call wins, so the tests of one process share
/// theirs.
pub fn install(files: Files) {
    let _ = FILES.set(files);
}

/// Storage on the disk under the system's temporary directory, one per process, with a 1 MiB
/// limit so a test can go over it cheaply. For tests.
pub fn install_for_tests() -> Files {
    let name = format!("{}-blobs-{}", env!("CARGO_PKG_NAME"), std::process::id());
    let root = std::env::temp_dir().join(name);
    install(Files {
        storage: Arc::new(Disk::new(root)),
        limits: UploadLimits {
            max_bytes: 1024 * 1024,
        },
    });
    files().clone()
}

/// The storage and limits; those of the environment when nothing installed others.
pub fn files() -> &'static Files {
    FILES.get_or_init(|| Files {
        storage: storage_from_env().unwrap_or_else(|error| {
            tracing::error!("{error}; blobs are kept on the local disk instead");
            Arc::new(Disk::new(Disk::default_root()))
        }),
        limits: UploadLimits::from_env().unwrap_or_default(),
    })
}

/// One row of the `blobs` table, as a record's partial shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, sqlx::FromRow)]
pub struct Blob {
    pub id: i64,
    pub key: String,
    pub filename: String,
    pub content_type: String,
    pub byte_size: i64,
    pub checksum: String,
    /// JSON text; see [`Metadata`].
    pub metadata: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Where the blob is served, at a signed URL; set when it is loaded.
    #[sqlx(skip)]
    pub path: String,
    /// An image's thumbnail, made on attach.
    #[sqlx(skip)]
    pub variant: Option<Variant>,
}

/// The thumbnail of an image, as the blob partial shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Variant {
    pub path: String,
    pub width: u32,
    pub height: u32,
}

/// What the `metadata` column of a blob holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_byte_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_height: Option<u32>,
    /// For a variant: the id of the blob it was made from, whose attachment says who may see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<i64>,
}

impl Blob {
    /// The parsed `metadata`; empty when it is not the JSON this module writes.
    pub fn metadata(&self) -> Metadata {
        serde_json::from_str(&self.metadata).unwrap_or_default()
    }

    /// Signs the blob's URL and its variant's with `secret`, for the partial.
    pub fn sign(&mut self, secret: &[u8]) {
        let Some(key) = Key::parse(&self.key) else {
            return;
        };
        self.path = blob_path(secret, &key, &self.filename);
        let meta = self.metadata();
        self.variant = match (
            meta.variant_key.as_deref().and_then(Key::parse),
            meta.variant_width,
            meta.variant_height,
        ) {
            (Some(key), Some(width), Some(height)) => Some(Variant {
                path: blob_path(
                    secret,
                    &key,
                    meta.variant_filename.as_deref().unwrap_or("thumbnail"),
                ),
                width,
                height,
            }),
            _ => None,
        };
    }

    pub fn is_video(&self) -> bool {
        Accept::Video.allows(&self.content_type)
    }

    pub fn is_audio(&self) -> bool {
        Accept::Audio.allows(&self.content_type)
    }

    /// The filename's extension in capitals (`PDF`), or `file`.
    pub fn extension(&self) -> String {
        match self.filename.rsplit_once('.') {
            Some((stem, extension)) if !stem.is_empty() && !extension.is_empty() => {
                extension.to_uppercase()
            }
            _ => "file".to_owned(),
        }
    }

    /// The size as people read it: `512 bytes`, `2.4 KB`, `18.0 MB`.
    pub fn size(&self) -> String {
        let bytes = self.byte_size.max(0) as f64;
        if bytes < 1000.0 {
            format!("{} bytes", self.byte_size)
        } else if bytes < 1_000_000.0 {
            format!("{:.1} KB", bytes / 1000.0)
        } else if bytes < 1_000_000_000.0 {
            format!("{:.1} MB", bytes / 1_000_000.0)
        } else {
            format!("{:.1} GB", bytes / 1_000_000_000.0)
        }
    }

    /// The keys this blob occupies in the storage: its own, and its variant's.
    pub fn keys(&self) -> Vec<Key> {
        let mut keys: Vec<Key> = Key::parse(&self.key).into_iter().collect();
        keys.extend(self.metadata().variant_key.as_deref().and_then(Key::parse));
        keys
    }
}

/// A blob attached to a record, as the query of a page of records reads it.
#[derive(sqlx::FromRow)]
struct AttachedRow {
    record_id: i64,
    name: String,
    #[sqlx(flatten)]
    blob: Blob,
}

/// The files of a page of records, by record id and field name, in their order.
#[derive(Debug, Default)]
pub struct Attached(HashMap<(i64, String), Vec<Blob>>);

impl Attached {
    /// The one file of a field, when the record has it.
    pub fn take_one(&mut self, record_id: i64, name: &str) -> Option<Blob> {
        self.take_many(record_id, name).into_iter().next()
    }

    /// The files of a field, in order.
    pub fn take_many(&mut self, record_id: i64, name: &str) -> Vec<Blob> {
        self.0
            .remove(&(record_id, name.to_owned()))
            .unwrap_or_default()
    }
}

/// The files of the records `ids` of `table`, in one query however many records and fields,
/// their URLs signed with `secret`. The first call in a process also sweeps for the blobs no
/// record has ([`sweep_later`]), left by records deleted before it started.
<% call rust.sig(0, "pub async fn load", " -> sqlx::Result<Attached> {") %>
db: &<%= pool %>
secret: &[u8]
table: &str
ids: &[i64]
<% endcall %>
    if !SWEPT.swap(true, Ordering::Relaxed) {
        sweep_later(db);
    }
    let mut attached = Attached::default();
    if ids.is_empty() {
        return Ok(attached);
    }
    let mut query = sqlx::QueryBuilder::<<%= app.sql.database_type %>>::new(
        "SELECT attachments.record_id, attachments.name, blobs.* FROM attachments \
         JOIN blobs ON blobs.id = attachments.blob_id WHERE attachments.record_table = ",
    );
    query
        .push_bind(table)
        .push(" AND attachments.record_id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(") ORDER BY attachments.record_id, attachments.name, attachments.position");
    let rows: Vec<AttachedRow> = query.build_query_as().fetch_all(db).await?;
    for mut row in rows {
        row.blob.sign(secret);
        attached
            .0
            .entry((row.record_id, row.name))
            .or_default()
            .push(row.blob);
    }
    Ok(attached)
}

/// A file field of a form: its name, the kinds of file it takes (none: any), the error shown
/// when it gets another, whether it takes many files, and whether every record has its file.
#[derive(Debug, Clone, Copy)]
pub struct FileField {
    pub name: &'static str,
    pub accept: &'static [Accept],
    pub wrong_kind: &'static str,
    pub many: bool,
    pub required: bool,
}

/// The `accept` attribute of the file input of field `name`, so the browser's picker offers
/// what the server takes; empty for any file.
pub fn html_accept(fields: &[FileField], name: &str) -> String {
    fields
        .iter()
        .find(|field| field.name == name)
        .map(|field| Accept::html_accept(field.accept))
        .unwrap_or_default()
}

/// A file stored by an upload, with its thumbnail when it is an image.
#[derive(Debug)]
pub struct Upload {
    pub field: &'static str,
    pub blob: StoredBlob,
    pub image: Option<ImageInfo>,
}

impl Upload {
    fn keys(&self) -> Vec<Key> {
        let mut keys = vec![self.blob.key.clone()];
        keys.extend(self.image.as_ref().map(|image| image.variant.key.clone()));
        keys
    }
}

/// A submitted form with file fields: the text fields read as the form `F`, the files already
/// stored, the fields whose "remove" box was ticked, and the files of a kind their field refuses.
#[derive(Debug)]
pub struct Submission<F> {
    pub values: F,
    pub uploads: Vec<Upload>,
    pub removed: Vec<String>,
    pub errors: FieldErrors,
}

impl<F> Submission<F> {
    /// Whether a file was uploaded for `field`.
    pub fn has_upload(&self, field: &str) -> bool {
        self.uploads.iter().any(|upload| upload.field == field)
    }

    /// Whether the form asked to remove the files of `field`.
    pub fn removes(&self, field: &str) -> bool {
        self.removed.iter().any(|name| name == field)
    }

    /// Deletes the files this submission stored, now: the record they were for was not saved.
    pub async fn discard(self) {
        discard(&self.uploads).await;
    }
}

/// A form's validation with the errors of its files added: valid only when both are.
pub fn validated<P>(
    form: Result<P, FieldErrors>,
    mut file_errors: FieldErrors,
) -> Result<P, FieldErrors> {
    match form {
        Ok(params) if file_errors.is_empty() => Ok(params),
        Ok(_) => Err(file_errors),
        Err(mut errors) => {
            for (field, message) in file_errors.iter() {
                errors.add(field, message);
            }
            file_errors = errors;
            Err(file_errors)
        }
    }
}

/// Deletes stored uploads at once, when the record they were for could not be saved.
pub async fn discard(uploads: &[Upload]) {
    let storage = &files().storage;
    for key in uploads.iter().flat_map(Upload::keys) {
        if let Err(error) = storage.delete(&key).await {
            tracing::warn!(%key, %error, "could not delete the blob of a record that was not saved");
        }
    }
}

/// Why a submission stored nothing and saves nothing.
#[derive(Debug)]
pub enum Rejected {
    /// A file over the limit (413), a truncated body (400), one too slow (408), the storage
    /// down (503).
    Upload(UploadError),
    /// The text fields could not be read as the form (a repeated or mistyped field).
    Form(AppError),
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        match self {
            Rejected::Form(error) => error.into_response(),
            Rejected::Upload(UploadError::Storage(error)) => {
                tracing::error!("the blob storage failed: {error}");
                error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The file could not be stored right now, so nothing was saved. Try again in a moment.",
                )
            }
            Rejected::Upload(UploadError::TooSlow(reason)) => {
                tracing::warn!("an upload was cut off: {reason}");
                error_page(
                    StatusCode::REQUEST_TIMEOUT,
                    "The upload arrived too slowly, so nothing was saved. Try again on a faster connection.",
                )
            }
            Rejected::Upload(error) => {
                let status = error.status();
                let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    format!(
                        "The file is too large: the limit is {} bytes. Nothing was saved.",
                        files().limits.max_bytes
                    )
                } else {
                    "The upload did not arrive whole, so nothing was saved. Try again.".to_owned()
                };
                error_page(status, &message)
            }
        }
    }
}

/// A plain error page, as the app's other errors are.
fn error_page(status: StatusCode, message: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
         <body><main class=\"container\"><h1>{}</h1><p>{message}</p>\
         <p><a href=\"/\">Back to the home page</a></p></main></body></html>\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error"),
    );
    (status, Html(page)).into_response()
}

/// The name of the checkbox that removes the files of `field`.
pub fn remove_field(field: &str) -> String {
    format!("remove_{field}")
}

/// Reads the form of a route with file fields, as Rails does either encoding.
/// `multipart/form-data`, what a browser sends for a form with a file input: each file of
/// `fields` streams through [`storage::upload`] into the storage as it arrives (never whole in
/// memory), each image gets its thumbnail, and the other parts are read as the form `F`, as an
/// URL-encoded form would be. A file of a kind its field refuses stores nothing and is an error
/// on the form; any other failure deletes what was stored before it and rejects the whole
/// submission. `application/x-www-form-urlencoded`, what API clients and `curl -d` send, is a
/// submission without files, so a field that must have one gets the form's error. Any other
/// body is refused with 415, as the form of a route without files is.
pub async fn read_form<F: DeserializeOwned>(
    request: Request,
    fields: &[FileField],
) -> Result<Submission<F>, Rejected> {
    if has_media_type(request.headers(), "application/x-www-form-urlencoded") {
        return read_urlencoded(request, fields).await;
    }
    let Ok(mut multipart) = Multipart::from_request(request, &()).await else {
        return Err(Rejected::Form(AppError::Rejected(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )));
    };
    let files = files();
    let mut uploads: Vec<Upload> = Vec::new();
    let mut errors = FieldErrors::default();
    // The text fields, URL-encoded once all are read: the encoder is not `Send`, so it cannot
    // be held across the reads.
    let mut text: Vec<(String, String)> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                discard(&uploads).await;
                return Err(Rejected::Upload(body_error(error, files.limits)));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(file_field) = fields.iter().find(|f| f.name == name) {
            let filename = field.file_name().unwrap_or_default().to_owned();
            // A file input left empty is sent as a part without a filename or bytes.
            if filename.is_empty() {
                continue;
            }
            if !file_field.many && uploads.iter().any(|u| u.field == file_field.name) {
                continue;
            }
            match storage::upload(
                files.storage.as_ref(),
                files.limits,
                file_field.accept,
                &filename,
                field,
            )
            .await
            {
                Ok(blob) => {
                    let image =
                        match variant::process_image(files.storage.as_ref(), &blob, files.limits)
                            .await
                        {
                            Ok(image) => image,
                            Err(error) => {
                                let stored = Upload {
                                    field: file_field.name,
                                    blob,
                                    image: None,
                                };
                                uploads.push(stored);
                                discard(&uploads).await;
                                return Err(Rejected::Upload(UploadError::Storage(error)));
                            }
                        };
                    uploads.push(Upload {
                        field: file_field.name,
                        blob,
                        image,
                    });
                }
                Err(UploadError::WrongKind { .. }) => {
                    errors.add(file_field.name, file_field.wrong_kind);
                }
                Err(error) => {
                    discard(&uploads).await;
                    return Err(Rejected::Upload(error));
                }
            }
        } else {
            match field.text().await {
                Ok(value) => text.push((name, value)),
                Err(error) => {
                    discard(&uploads).await;
                    return Err(Rejected::Upload(body_error(error, files.limits)));
                }
            }
        }
    }
    match text_fields(text, fields).await {
        Ok((values, removed)) => Ok(Submission {
            values,
            uploads,
            removed,
            errors,
        }),
        Err(error) => {
            discard(&uploads).await;
            Err(error)
        }
    }
}

/// Reads an URL-encoded form on a route with file fields: a submission that stores no file.
/// The route's body limit was raised for uploads, so the body is read within the limit of the
/// app's other forms instead: a larger one is 413, as it is on a route without files.
async fn read_urlencoded<F: DeserializeOwned>(
    request: Request,
    fields: &[FileField],
) -> Result<Submission<F>, Rejected> {
    let mut body = request.into_body().into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return Err(Rejected::Form(AppError::Rejected(StatusCode::BAD_REQUEST)));
        };
        if bytes.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(Rejected::Form(AppError::Rejected(
                StatusCode::PAYLOAD_TOO_LARGE,
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = form_urlencoded::parse(&bytes).into_owned().collect();
    let (values, removed) = text_fields(text, fields).await?;
    Ok(Submission {
        values,
        uploads: Vec::new(),
        removed,
        errors: FieldErrors::default(),
    })
}

/// The text fields of a form with file fields, read as the form `F`, and the file fields whose
/// "remove" box was ticked. A value sent under a file field's own name is not a file, so it is
/// dropped, as a multipart part without a filename is.
async fn text_fields<F: DeserializeOwned>(
    text: Vec<(String, String)>,
    fields: &[FileField],
) -> Result<(F, Vec<String>), Rejected> {
    let mut removed = Vec::new();
    let mut rest = Vec::new();
    for (name, value) in text {
        if fields.iter().any(|f| f.name == name) {
            continue;
        }
        match fields.iter().find(|f| remove_field(f.name) == name) {
            Some(target) if !value.is_empty() => removed.push(target.name.to_owned()),
            Some(_) => {}
            None => rest.push((name, value)),
        }
    }
    // A POST, since axum reads the form of any other method from the query string.
    let request = Request::post("/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(rest)
                .finish(),
        ))
        .map_err(|_| Rejected::Form(AppError::Rejected(StatusCode::BAD_REQUEST)))?;
    match crate::extract::Form::<F>::from_request(request, &()).await {
        Ok(crate::extract::Form(values)) => Ok((values, removed)),
        Err(error) => Err(Rejected::Form(error)),
    }
}

/// What a multipart body that could not be read comes to: one cut off by its deadline
/// (`UPLOAD_MIN_RATE`, `HTTP_UPLOAD_TIMEOUT`) is 408, over the route's limit is 413, the rest
/// (a truncated body, a malformed part) 400.
fn body_error(error: MultipartError, limits: UploadLimits) -> UploadError {
    if let Some(reason) = crate::turbo::deadline::too_slow(&error) {
        UploadError::TooSlow(reason)
    } else if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        UploadError::TooLarge {
            max_bytes: limits.max_bytes,
        }
    } else {
        UploadError::Body(std::io::Error::other(error.body_text()))
    }
}

/// Records an upload in the blobs table and attaches it to a record, inside the transaction
/// that saves the record, so both commit or neither does.
pub async fn attach(
    db: &mut <%= conn %>,
    table: &str,
    record_id: i64,
    owner_id: Option<i64>,
    upload: &Upload,
    position: i64,
) -> sqlx::Result<()> {
    let mut meta = Metadata::default();
    if let Some(image) = &upload.image {
        meta.width = Some(image.width);
        meta.height = Some(image.height);
        meta.variant_key = Some(image.variant.key.to_string());
        meta.variant_filename = Some(image.variant.filename.clone());
        meta.variant_byte_size = Some(image.variant.byte_size);
        meta.variant_width = Some(image.variant_width);
        meta.variant_height = Some(image.variant_height);
    }
    let blob_id = insert_blob(&mut *db, &upload.blob, &meta).await?;
    if let Some(image) = &upload.image {
        let variant = Metadata {
            original: Some(blob_id),
            ..Metadata::default()
        };
        insert_blob(&mut *db, &image.variant, &variant).await?;
    }
    sqlx::query(
        "INSERT INTO attachments (record_table, record_id, name, blob_id, position, owner_id) \
         VALUES (<%= param(1) %>, <%= param(2) %>, <%= param(3) %>, <%= param(4) %>, <%= param(5) %>, <%= param(6) %>)",
    )
    .bind(table)
    .bind(record_id)
    .bind(upload.field)
    .bind(blob_id)
    .bind(position)
    .bind(owner_id)
    .execute(&mut *db)
    .await?;
    Ok(())
}

async fn insert_blob(
    db: &mut <%= conn %>,
    blob: &StoredBlob,
    meta: &Metadata,
) -> sqlx::Result<i64> {
    let metadata = serde_json::to_string(meta).unwrap_or_else(|_| "{}".to_owned());
    sqlx::query_scalar(
        "INSERT INTO blobs (key, filename, content_type, byte_size, checksum, metadata) \
         VALUES (<%= param(1) %>, <%= param(2) %>, <%= param(3) %>, <%= param(4) %>, <%= param(5) %>, <%= param(6) %>) RETURNING id",
    )
    .bind(blob.key.as_str())
    .bind(&blob.filename)
    .bind(blob.content_type)
    .bind(i64::try_from(blob.byte_size).unwrap_or(i64::MAX))
    .bind(&blob.checksum)
    .bind(metadata)
    .fetch_one(db)
    .await
}

/// The next free position of a field's files on a record.
pub async fn next_position(
    db: &mut <%= conn %>,
    table: &str,
    record_id: i64,
    name: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COALESCE(MAX(position) + 1, 0) FROM attachments \
         WHERE record_table = <%= param(1) %> AND record_id = <%= param(2) %> AND name = <%= param(3) %>",
    )
    .bind(table)
    .bind(record_id)
    .bind(name)
    .fetch_one(db)
    .await
}

/// Attaches a new record's uploads, inside the transaction that inserts it.
pub async fn attach_all(
    db: &mut <%= conn %>,
    table: &str,
    record_id: i64,
    owner_id: Option<i64>,
    uploads: &[Upload],
) -> sqlx::Result<()> {
    for (position, upload) in (0_i64..).zip(uploads) {
        attach(db, table, record_id, owner_id, upload, position).await?;
    }
    Ok(())
}

/// Applies an edit's files to a record, inside the transaction that updates it: a new file of a
/// single field replaces the old one, a ticked "remove" detaches the field's files, and new
/// files of a field of many are added after the others. Gives the keys to purge once it commits.
pub async fn replace(
    db: &mut <%= conn %>,
    table: &str,
    record_id: i64,
    owner_id: Option<i64>,
    fields: &[FileField],
    uploads: &[Upload],
    removed: &[String],
) -> sqlx::Result<Vec<Key>> {
    let mut purged = Vec::new();
    for field in fields {
        let replaced = !field.many && uploads.iter().any(|upload| upload.field == field.name);
        // A file every record has is replaced, never removed: its form offers no "remove".
        let removes = !field.required && removed.iter().any(|name| name == field.name);
        if replaced || removes {
            purged.extend(detach(db, table, record_id, Some(field.name)).await?);
        }
    }
    for upload in uploads {
        let position = next_position(db, table, record_id, upload.field).await?;
        attach(db, table, record_id, owner_id, upload, position).await?;
    }
    Ok(purged)
}

/// Detaches the files of one field of a record (of every field when `name` is `None`) and
/// deletes their rows, inside the record's transaction; gives the storage keys to purge once it
/// commits.
pub async fn detach(
    db: &mut <%= conn %>,
    table: &str,
    record_id: i64,
    name: Option<&str>,
) -> sqlx::Result<Vec<Key>> {
    let blobs: Vec<Blob> = sqlx::query_as(
        "SELECT blobs.* FROM attachments JOIN blobs ON blobs.id = attachments.blob_id \
         WHERE attachments.record_table = <%= param(1) %> AND attachments.record_id = <%= param(2) %> \
         AND attachments.name = COALESCE(<%= param(3) %>, attachments.name)",
    )
    .bind(table)
    .bind(record_id)
    .bind(name)
    .fetch_all(&mut *db)
    .await?;
    let mut keys = Vec::new();
    for blob in &blobs {
        keys.extend(blob.keys());
        // The attachment goes with its blob (ON DELETE CASCADE), and the variant's row with it.
        sqlx::query("DELETE FROM blobs WHERE id = <%= param(1) %> OR key = <%= param(2) %>")
            .bind(blob.id)
            .bind(blob.metadata().variant_key.unwrap_or_default())
            .execute(&mut *db)
            .await?;
    }
    Ok(keys)
}

/// Deletes blobs from the storage on a task of their own, once the rows that named them are gone.
pub fn purge_later(keys: Vec<Key>) {
    storage::purge_later(files().storage.clone(), keys);
}

/// Deletes the rows of the blobs no record has any more, and gives their storage keys to purge:
/// a record deleted with another (a parent destroyed, a user deleted) or by hand loses its
/// attachments to its table's trigger, and a removed file field's migration deletes them. A
/// blob is stored with its attachment in one transaction, so one without is never about to
/// be attached, and a variant goes with its original.
pub async fn delete_unattached(db: &<%= pool %>) -> sqlx::Result<Vec<Key>> {
    let blobs: Vec<Blob> = sqlx::query_as(
        "SELECT * FROM blobs WHERE NOT EXISTS \
         (SELECT 1 FROM attachments WHERE attachments.blob_id = blobs.id)",
    )
    .fetch_all(db)
    .await?;
    let unattached: HashSet<i64> = blobs.iter().map(|blob| blob.id).collect();
    let mut tx = db.begin().await?;
    let mut keys = Vec::new();
    for blob in &blobs {
        let meta = blob.metadata();
        if let Some(original) = meta.original {
            // A variant goes with its original, and stays while its original is attached.
            if unattached.contains(&original) {
                continue;
            }
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM blobs WHERE id = <%= param(1) %>")
                .bind(original)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                continue;
            }
        }
        keys.extend(blob.keys());
        sqlx::query("DELETE FROM blobs WHERE id = <%= param(1) %> OR key = <%= param(2) %>")
            .bind(blob.id)
            .bind(meta.variant_key.unwrap_or_default())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(keys)
}

/// Purges the blobs no record has any more ([`delete_unattached`]) on a task of its own, off the
/// request path. Each resource with files registers it to run when a record it belongs to is
/// destroyed (`turbo::cascade::on_destroy`), and the first page of files a process loads runs
/// it once, for what was left before it started.
pub fn sweep_later(db: &<%= pool %>) {
    let db = db.clone();
    tokio::spawn(async move {
        match delete_unattached(&db).await {
            Ok(keys) if keys.is_empty() => {}
            Ok(keys) => {
                tracing::info!(objects = keys.len(), "purging the files no record has");
                purge_later(keys);
            }
            Err(error) => tracing::warn!(%error, "could not look for the files no record has"),
        }
    });
}

/// Whether this process has swept for unattached blobs since it started.
static SWEPT: AtomicBool = AtomicBool::new(false);

<% if accounts %>
/// The tables whose records only signed-in users see, registered by their resources' routes:
/// their files are served to signed-in sessions alone, as their pages are.
static SIGNED_IN_TABLES: RwLock<Vec<&'static str>> = RwLock::new(Vec::new());

/// Serves the files of `table`'s records to signed-in sessions alone. Registering twice is
/// harmless.
pub fn require_sign_in(table: &'static str) {
    let mut tables = SIGNED_IN_TABLES
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !tables.contains(&table) {
        tables.push(table);
    }
}

fn needs_sign_in(table: &str) -> bool {
    SIGNED_IN_TABLES
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .contains(&table)
}

<% endif %>
/// The route every file is served from.
pub fn routes() -> Router<AppState> {
    Router::new().route("/blobs/{token}/{filename}", get(show))
}

/// Serves a blob at its signed URL: a token that is not this app's is not found, and so is the
/// file of a scoped record to anyone but its owner's session<% if accounts %>, and the file of a record
/// that only signed-in users see to a visitor<% endif %>. The filename in the path is for
/// the browser only; what is served is decided by the token.
async fn show(
    State(app): State<AppState>,
    Path((token, _filename)): Path<(String, String)>,
<% if accounts %>
    MaybeUser(current): MaybeUser,
<% endif %>
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let secret = app.config.secret_key_base.as_bytes();
    let Some(key) = verify_blob_token(secret, &token) else {
        return Err(AppError::NotFound);
    };
    let blob: Blob = sqlx::query_as("SELECT * FROM blobs WHERE key = <%= param(1) %>")
        .bind(key.as_str())
        .fetch_one(&app.db)
        .await?;
    // A variant is seen by whoever may see its original.
    let attached_id = blob.metadata().original.unwrap_or(blob.id);
<% if accounts %>
    let attachment: Option<(Option<i64>, String)> = sqlx::query_as(
        "SELECT owner_id, record_table FROM attachments \
         WHERE blob_id = <%= param(1) %>",
    )
    .bind(attached_id)
    .fetch_optional(&app.db)
    .await?;
    // A blob no record names any more is being purged.
    let Some((owner, table)) = attachment else {
        return Err(AppError::NotFound);
    };
    let allowed = match (owner, &current) {
        (Some(owner), Some(current)) => current.user.id == owner,
        (Some(_), None) => false,
        (None, current) => current.is_some() || !needs_sign_in(&table),
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
<% else %>
    let owner: Option<Option<i64>> =
        sqlx::query_scalar("SELECT owner_id FROM attachments WHERE blob_id = <%= param(1) %>")
            .bind(attached_id)
            .fetch_optional(&app.db)
            .await?;
    // A blob no record names any more is being purged.
    let Some(owner) = owner else {
        return Err(AppError::NotFound);
    };
    // Without accounts no record is scoped to a user, so no file has an owner.
    if owner.is_some() {
        return Err(AppError::NotFound);
    }
<% endif %>
    let meta = BlobMeta {
        key: &key,
        content_type: &blob.content_type,
        filename: &blob.filename,
        byte_size: u64::try_from(blob.byte_size).unwrap_or_default(),
        checksum: &blob.checksum,
    };
    Ok(storage::serve::serve(files().storage.as_ref(), meta, &headers).await)
}
