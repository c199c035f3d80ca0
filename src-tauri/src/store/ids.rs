//! Typed row ids: a run id cannot be passed where a dataset id is meant.

use std::fmt;

use super::sql_types::sql_integer_newtype;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, ts_rs::TS,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

row_id!(
    /// A dataset's id.
    DatasetId
);
row_id!(
    /// A run's id.
    RunId
);
row_id!(
    /// A decision row's id.
    DecisionId
);

sql_integer_newtype!(DatasetId, RunId, DecisionId);
