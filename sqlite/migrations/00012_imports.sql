-- CSV import (issue 13 §1): an upload, its records as they were read (so any replica's job can work on them), and
-- which record of which file (by content hash) became which lead, so importing a file again skips what it imported.

-- +goose Up
CREATE TABLE imports (
    id               TEXT PRIMARY KEY,
    status           TEXT NOT NULL CHECK (status IN ('previewing', 'ready', 'running', 'done', 'failed', 'cancelled')),
    created_by       TEXT NOT NULL REFERENCES users (id),
    owner_id         TEXT REFERENCES users (id),
    source           TEXT NOT NULL DEFAULT '',
    file_name        TEXT NOT NULL DEFAULT '',
    content_hash     TEXT NOT NULL,
    sep              TEXT NOT NULL,
    header           TEXT NOT NULL,
    mapping          TEXT NOT NULL,
    allow_duplicates INTEGER NOT NULL DEFAULT 0,
    generation       INTEGER NOT NULL DEFAULT 0,
    total            INTEGER NOT NULL CHECK (total >= 0),
    checked          INTEGER NOT NULL DEFAULT 0,
    valid            INTEGER NOT NULL DEFAULT 0,
    invalid          INTEGER NOT NULL DEFAULT 0,
    duplicates       INTEGER NOT NULL DEFAULT 0,
    skipped          INTEGER NOT NULL DEFAULT 0,
    imported         INTEGER NOT NULL DEFAULT 0,
    cursor_record    INTEGER NOT NULL DEFAULT 0,
    errors           TEXT NOT NULL DEFAULT '[]',
    error            TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    finished_at      TEXT
) STRICT;
CREATE INDEX imports_created_by ON imports (created_by, id);

-- No foreign key to imports: the upload stores its records before the import itself.
CREATE TABLE import_rows (
    import_id  TEXT NOT NULL,
    record     INTEGER NOT NULL,
    fields     TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'duplicate', 'skipped', 'imported')),
    email_key  TEXT NOT NULL DEFAULT '',
    phone_key  TEXT NOT NULL DEFAULT '',
    name_key   TEXT NOT NULL DEFAULT '',
    lead_id    TEXT,
    PRIMARY KEY (import_id, record)
) STRICT;
CREATE INDEX import_rows_email ON import_rows (import_id, email_key) WHERE email_key <> '';
CREATE INDEX import_rows_phone ON import_rows (import_id, phone_key) WHERE phone_key <> '';
CREATE INDEX import_rows_name ON import_rows (import_id, name_key) WHERE name_key <> '';

CREATE TABLE imported_records (
    content_hash TEXT NOT NULL,
    record       INTEGER NOT NULL,
    lead_id      TEXT NOT NULL REFERENCES leads (id),
    import_id    TEXT NOT NULL,
    PRIMARY KEY (content_hash, record)
) STRICT;

-- +goose Down
DROP TABLE imported_records;
DROP TABLE import_rows;
DROP TABLE imports;
