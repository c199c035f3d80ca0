-- The process's peak resident memory while a run prepared and trained, in MiB, for the
-- leaderboard and `bench`. NULL: not measured (runs from before, or a platform without
-- the figure).
ALTER TABLE runs ADD COLUMN peak_memory_mib REAL;
