-- The window (or process) a decision was taken in: an undo takes back the newest decision
-- of the same reviewer in the same window, never another reviewer's or another window's.
-- NULL for decisions from before this column, and for those recorded without a session
-- (the CLI: undo there takes back the same author's newest).
ALTER TABLE decisions ADD COLUMN session TEXT;
