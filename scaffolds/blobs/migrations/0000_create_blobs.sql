-- The app's files, shared by every resource with an attachment field: one row per stored blob,
-- and one per file attached to a record. Numbered 0000 so that it runs before any table whose
-- records have files, whenever the first file field was added. sqlx runs it at boot, once.
CREATE TABLE blobs (
    id <%= app.sql.id_column %>,
    -- The blob's name in the storage: random, never taken from a request.
    key TEXT NOT NULL UNIQUE,
    filename TEXT NOT NULL,
    -- Sniffed from the bytes at upload, never the browser's word.
    content_type TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    -- The hex SHA-256 of the bytes, served as the ETag.
    checksum TEXT NOT NULL,
    -- JSON: an image's width and height and its variant's key, filename, size and dimensions;
    -- for a variant, the id of its original.
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Which record a blob is attached to, by table, id and field, for `attachment` (position 0) and
-- `attachments` (positions in order) alike.
CREATE TABLE attachments (
    id <%= app.sql.id_column %>,
    record_table TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    blob_id <%= app.sql.reference %> NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    position BIGINT NOT NULL DEFAULT 0,
    -- The user a scoped record belongs to, whose session alone is served the file; none for a
    -- public record.
    owner_id BIGINT,
    created_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (record_table, record_id, name, position)
);

-- A page of records' files is a range of the unique index above, by table and record id;
-- serving a blob looks up its attachment by blob.
CREATE INDEX index_attachments_on_blob_id ON attachments (blob_id);
