-- Review by teams: the mode a decision was taken in, decisions that settle a disagreement
-- between reviewers, decisions recorded together as one step, and the data directory's
-- settings. Decisions stay append-only: these are new columns, read by every replay.

-- 1: taken in blind mode (no score, rank or gold badge shown); 0: with them; NULL: outside
-- the review view (the CLI, imports) or from before this column.
ALTER TABLE decisions ADD COLUMN blind INTEGER CHECK (blind IN (0, 1));
-- 1: an adjudicator's decision on a pair the reviewers disagree about; it is final: the
-- pair's verdict is this one whatever the reviewers said (until it is undone).
ALTER TABLE decisions ADD COLUMN adjudication INTEGER NOT NULL DEFAULT 0 CHECK (adjudication IN (0, 1));
-- Decisions recorded as one step ("accept every prediction above p") share a batch and
-- are undone together.
ALTER TABLE decisions ADD COLUMN batch TEXT;
CREATE INDEX decisions_by_batch ON decisions (batch) WHERE batch IS NOT NULL;

-- Settings of this data directory (the default reviewer, blind mode, keyboard shortcuts).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
