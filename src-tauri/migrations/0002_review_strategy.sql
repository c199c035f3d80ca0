-- The review-queue ordering that put a pair in front of the reviewer (NULL when the pair
-- was decided outside the queue). Decisions taken from the `random` ordering form an
-- unbiased sample of a run's predictions, from which its precision is estimated.
ALTER TABLE decisions ADD COLUMN review_strategy TEXT;
