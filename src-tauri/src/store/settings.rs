//! Settings of the data directory (the default reviewer, blind mode, shortcuts): text
//! values by key, one row each.

use super::{Store, StoreError, now_millis};

impl Store {
    /// The value of setting `key`, if set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Sets `key` to `value`, or clears it with `None`.
    pub async fn set_setting(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        let query = match value {
            Some(value) => sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(value)
            .bind(now_millis()),
            None => sqlx::query("DELETE FROM settings WHERE key = ?").bind(key),
        };
        query.execute(self.pool()).await.map_err(|e| self.err(e))?;
        Ok(())
    }
}
