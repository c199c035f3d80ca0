//! How store types map to SQLite values and rows, written out by hand.
//!
//! sqlx's derive and `migrate!` macros would pull in `sqlx-macros`, which compiles a
//! second bundled SQLite for the build host; these three small macros do the same job
//! without it (one SQLite compile per build, several minutes less CI time).

/// Stores a newtype over `i64` as an INTEGER (what `#[sqlx(transparent)]` does).
macro_rules! sql_integer_newtype {
    ($($name:ident),+ $(,)?) => {$(
        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
                <i64 as sqlx::Type<sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
                <i64 as sqlx::Type<sqlx::Sqlite>>::compatible(ty)
            }
        }
        impl sqlx::Encode<'_, sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Sqlite as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <i64 as sqlx::Encode<sqlx::Sqlite>>::encode_by_ref(&self.0, buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(
                value: sqlx::sqlite::SqliteValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(Self(<i64 as sqlx::Decode<sqlx::Sqlite>>::decode(value)?))
            }
        }
    )+};
}

/// Stores a fieldless enum as TEXT, one word per variant (also its `as_str`).
macro_rules! sql_text_enum {
    ($name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $name {
            /// The stored word.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $word),+ }
            }
        }
        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
                <&str as sqlx::Type<sqlx::Sqlite>>::type_info()
            }
        }
        impl sqlx::Encode<'_, sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Sqlite as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Sqlite>>::encode_by_ref(&self.as_str(), buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(
                value: sqlx::sqlite::SqliteValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                match <&str as sqlx::Decode<sqlx::Sqlite>>::decode(value)? {
                    $($word => Ok(Self::$variant),)+
                    other => Err(format!(
                        "unknown {} {other:?} in the database",
                        stringify!($name)
                    )
                    .into()),
                }
            }
        }
    };
}

/// Reads a struct from a row, each field from the column of the same name.
macro_rules! sql_from_row {
    ($name:ident { $($field:ident),+ $(,)? }) => {
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $name {
            fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok(Self { $($field: row.try_get(stringify!($field))?),+ })
            }
        }
    };
}

pub(crate) use {sql_from_row, sql_integer_newtype, sql_text_enum};
