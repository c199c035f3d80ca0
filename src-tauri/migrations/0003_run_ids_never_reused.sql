-- Run ids are never handed out again. Without AUTOINCREMENT, deleting the newest run gave
-- its id to the next one, and decisions naming the deleted run (`decisions.run_id`, no
-- foreign key) silently belonged to the new run. SQLite cannot add AUTOINCREMENT to a
-- table, so `runs` is rebuilt (SQLite's documented twelve-step procedure): foreign keys
-- off, outside sqlx's transaction, so dropping the old table cascades nothing; the child
-- tables' references name `runs` and resolve to the new table after the rename.
-- Running it again (a crash before sqlx recorded it) rebuilds the same table again.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE runs_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO runs_rebuilt (id, dataset_id, model, request, config, device, device_label, seed,
    code_version, status, created_at, started_at, finished_at, epochs_done, epochs_planned,
    best_epoch, hits_at_1, hits_at_10, mrr, mr, metrics, error, cancel_requested, run_dir,
    weight_modalities, similarity_modalities)
SELECT id, dataset_id, model, request, config, device, device_label, seed,
    code_version, status, created_at, started_at, finished_at, epochs_done, epochs_planned,
    best_epoch, hits_at_1, hits_at_10, mrr, mr, metrics, error, cancel_requested, run_dir,
    weight_modalities, similarity_modalities
FROM runs;
DROP TABLE runs;
ALTER TABLE runs_rebuilt RENAME TO runs;
CREATE INDEX runs_by_status ON runs (status);
-- Start the sequence past every run id still named anywhere: a run deleted before this
-- migration may still be named by decisions.
DELETE FROM sqlite_sequence WHERE name = 'runs';
INSERT INTO sqlite_sequence (name, seq) SELECT 'runs', max(
    coalesce((SELECT max(id) FROM runs), 0),
    coalesce((SELECT max(run_id) FROM decisions), 0));
COMMIT;
PRAGMA foreign_keys = ON;
