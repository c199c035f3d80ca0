-- Indexes that keep the inspector interactive at millions of entities.
--
-- Entity search by substring of label, key or name through a trigram full-text index, so
-- a search in graphs of millions of entities reads the index instead of every row.
-- Contentless (the text stays in `entities`; deletes allowed); its rowid is
-- dataset_id * 2^32 + entity. The triggers keep it in step with `entities`, cascades
-- from a deleted dataset included.
CREATE VIRTUAL TABLE entity_search USING fts5(
    label, key, name,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);
INSERT INTO entity_search (rowid, label, key, name)
    SELECT dataset_id * 4294967296 + entity, label, key, name FROM entities;
CREATE TRIGGER entities_searchable AFTER INSERT ON entities BEGIN
    INSERT INTO entity_search (rowid, label, key, name)
    VALUES (new.dataset_id * 4294967296 + new.entity, new.label, new.key, new.name);
END;
CREATE TRIGGER entities_unsearchable AFTER DELETE ON entities BEGIN
    DELETE FROM entity_search WHERE rowid = old.dataset_id * 4294967296 + old.entity;
END;
-- Exact label matches (ranked first by every search) without a scan.
CREATE INDEX entities_by_label ON entities (dataset_id, label COLLATE NOCASE);
-- The inspector's query list: a run's least confident top-1s and worst true ranks
-- without reading all its predictions.
CREATE INDEX predictions_top1_by_score ON predictions (run_id, direction, score) WHERE rank = 1;
CREATE INDEX run_ranks_by_rank ON run_ranks (run_id, direction, rank);
