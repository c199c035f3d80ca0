-- AlignScope store, version 1. Times are Unix milliseconds (UTC).

CREATE TABLE datasets (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    source_path   TEXT    NOT NULL,
    format        TEXT    NOT NULL,
    image_features TEXT,
    fingerprint   TEXT    NOT NULL,
    statistics    TEXT    NOT NULL,          -- JSON: entity/triple/gold counts
    created_at    INTEGER NOT NULL,
    UNIQUE (fingerprint, source_path)
);

-- Entities of both graphs, by joint index (left graph first), for search and names.
CREATE TABLE entities (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    entity     INTEGER NOT NULL,             -- joint index
    side       INTEGER NOT NULL CHECK (side IN (0, 1)),
    key        TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    PRIMARY KEY (dataset_id, entity)
) WITHOUT ROWID;
CREATE UNIQUE INDEX entities_by_key ON entities (dataset_id, side, key);

CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    dataset_id       INTEGER NOT NULL REFERENCES datasets(id),
    model            TEXT    NOT NULL,
    request          TEXT    NOT NULL,       -- JSON: what was asked for
    config           TEXT,                   -- JSON: the full resolved run config
    device           TEXT    NOT NULL,       -- requested device
    device_label     TEXT,                   -- the device it ran on
    seed             INTEGER NOT NULL,
    code_version     TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN
                       ('queued','running','completed','failed','cancelled','interrupted')),
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    epochs_done      INTEGER NOT NULL DEFAULT 0,
    epochs_planned   INTEGER NOT NULL,
    best_epoch       INTEGER,
    hits_at_1        REAL,
    hits_at_10       REAL,
    mrr              REAL,
    mr               REAL,
    metrics          TEXT,                   -- JSON: final metrics, both directions
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    run_dir          TEXT    NOT NULL,       -- relative to the data directory
    weight_modalities     TEXT,              -- JSON array: columns of entity_weights
    similarity_modalities TEXT               -- JSON array: per-modality score columns
);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE run_epochs (
    run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch           INTEGER NOT NULL,
    loss            REAL    NOT NULL,
    seconds         REAL    NOT NULL,
    eval_seconds    REAL,
    hits_at_1       REAL,
    hits_at_10      REAL,
    mrr             REAL,
    valid_hits_at_1 REAL,
    details         TEXT    NOT NULL,        -- JSON: the whole epoch record
    recorded_at     INTEGER NOT NULL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;

CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,             -- config, summary, checkpoint, candidates, ranks, weights, manifest
    path       TEXT    NOT NULL,             -- relative to the data directory
    bytes      INTEGER NOT NULL,
    sha256     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (run_id, path)
);

-- Top-k candidates per test query. direction 0: left to right, 1: right to left.
-- modality_scores: little-endian f32 per runs.similarity_modalities entry.
CREATE TABLE predictions (
    run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    direction       INTEGER NOT NULL CHECK (direction IN (0, 1)),
    query           INTEGER NOT NULL,        -- joint entity index
    rank            INTEGER NOT NULL,
    candidate       INTEGER NOT NULL,        -- joint entity index
    score           REAL    NOT NULL,
    is_true         INTEGER NOT NULL,
    modality_scores BLOB    NOT NULL,
    PRIMARY KEY (run_id, direction, query, rank)
) WITHOUT ROWID;

-- The rank of every test pair's true match.
CREATE TABLE run_ranks (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    direction INTEGER NOT NULL CHECK (direction IN (0, 1)),
    query     INTEGER NOT NULL,
    truth     INTEGER NOT NULL,
    rank      INTEGER NOT NULL,
    PRIMARY KEY (run_id, direction, query)
) WITHOUT ROWID;

-- Per-entity modality weights: little-endian f32 per runs.weight_modalities entry.
CREATE TABLE entity_weights (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    entity  INTEGER NOT NULL,
    weights BLOB    NOT NULL,
    PRIMARY KEY (run_id, entity)
) WITHOUT ROWID;

-- Human and imported decisions about pairs: append-only. An undo is a new row that names
-- the row it undoes; the state of a pair is its newest decision that is not undone.
CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    left_key   TEXT    NOT NULL,
    right_key  TEXT    NOT NULL,
    action     TEXT    NOT NULL CHECK (action IN ('decide', 'undo')),
    verdict    TEXT    NOT NULL CHECK (verdict IN ('accept', 'reject', 'unsure', 'none')),
    undoes     INTEGER REFERENCES decisions(id),
    source     TEXT    NOT NULL CHECK (source IN ('manual', 'import', 'model')),
    run_id     INTEGER,                      -- the run that suggested it (no FK: runs may be deleted)
    confidence REAL,
    note       TEXT,
    author     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK ((action = 'undo') = (undoes IS NOT NULL))
);
CREATE INDEX decisions_by_pair ON decisions (dataset_id, left_key, right_key, id);
CREATE INDEX decisions_by_right ON decisions (dataset_id, right_key, id);
CREATE UNIQUE INDEX decisions_undone_once ON decisions (undoes) WHERE undoes IS NOT NULL;

CREATE TRIGGER decisions_are_append_only_update BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: record a new decision or an undo');
END;
CREATE TRIGGER decisions_are_append_only_delete BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: record a new decision or an undo');
END;
