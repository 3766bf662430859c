-- CSV import (issue 13 §1): an upload, its records as they were read (so any replica's job can work on them), and
-- which record of which file (by content hash) became which lead, so importing a file again skips what it imported.

-- +goose Up
CREATE TABLE imports (
    id               uuid PRIMARY KEY,
    status           text NOT NULL CHECK (status IN ('previewing', 'ready', 'running', 'done', 'failed', 'cancelled')),
    created_by       uuid NOT NULL REFERENCES users (id),
    owner_id         uuid REFERENCES users (id),
    source           text NOT NULL DEFAULT '',
    file_name        text NOT NULL DEFAULT '',
    content_hash     text NOT NULL,
    sep              text NOT NULL,
    header           jsonb NOT NULL,
    mapping          jsonb NOT NULL,
    allow_duplicates boolean NOT NULL DEFAULT false,
    generation       integer NOT NULL DEFAULT 0,
    total            integer NOT NULL CHECK (total >= 0),
    checked          integer NOT NULL DEFAULT 0,
    valid            integer NOT NULL DEFAULT 0,
    invalid          integer NOT NULL DEFAULT 0,
    duplicates       integer NOT NULL DEFAULT 0,
    skipped          integer NOT NULL DEFAULT 0,
    imported         integer NOT NULL DEFAULT 0,
    cursor_record    integer NOT NULL DEFAULT 0,
    errors           jsonb NOT NULL DEFAULT '[]',
    error            text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz
);
CREATE INDEX imports_created_by ON imports (created_by, id);

-- No foreign key to imports: the upload stores its records before the import itself.
CREATE TABLE import_rows (
    import_id  uuid NOT NULL,
    record     integer NOT NULL,
    fields     jsonb NOT NULL,
    status     text NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'duplicate', 'skipped', 'imported')),
    email_key  text NOT NULL DEFAULT '',
    phone_key  text NOT NULL DEFAULT '',
    name_key   text NOT NULL DEFAULT '',
    lead_id    uuid,
    PRIMARY KEY (import_id, record)
);
CREATE INDEX import_rows_email ON import_rows (import_id, email_key) WHERE email_key <> '';
CREATE INDEX import_rows_phone ON import_rows (import_id, phone_key) WHERE phone_key <> '';
CREATE INDEX import_rows_name ON import_rows (import_id, name_key) WHERE name_key <> '';

CREATE TABLE imported_records (
    content_hash text NOT NULL,
    record       integer NOT NULL,
    lead_id      uuid NOT NULL REFERENCES leads (id),
    import_id    uuid NOT NULL,
    PRIMARY KEY (content_hash, record)
);

-- +goose Down
DROP TABLE imported_records;
DROP TABLE import_rows;
DROP TABLE imports;
