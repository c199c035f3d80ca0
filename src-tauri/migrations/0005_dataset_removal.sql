-- A removed dataset keeps its row (and, where it has decisions, its entities) so the
-- append-only decision history stays exportable; its runs and files are gone. Importing
-- its folder again restores it. NULL: not removed.
ALTER TABLE datasets ADD COLUMN removed_at INTEGER;
