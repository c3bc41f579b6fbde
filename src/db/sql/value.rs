//! Values crossing the seam: what a statement is given (`Param`, `Params`) and what a row's
//! column is read as (`ValueRef`, `FromColumn`). Both engines see the same four kinds SQLite
//! has (integer, real, text, blob) and NULL, so one statement binds and reads alike on either.

use super::{Error, Result};

/// A value bound to a statement, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// A column of a row, borrowed from the row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    fn kind(self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "integer",
            ValueRef::Real(_) => "real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "blob",
        }
    }

    fn mismatch(self, wanted: &'static str) -> Error {
        Error::Conversion {
            wanted,
            found: self.kind(),
        }
    }

    pub fn as_str(self) -> Result<&'a str> {
        match self {
            ValueRef::Text(t) => std::str::from_utf8(t).map_err(|_| Error::Conversion {
                wanted: "UTF-8 text",
                found: "text that is not UTF-8",
            }),
            other => Err(other.mismatch("text")),
        }
    }

    pub fn as_str_or_null(self) -> Result<Option<&'a str>> {
        match self {
            ValueRef::Null => Ok(None),
            other => other.as_str().map(Some),
        }
    }

    pub fn as_blob(self) -> Result<&'a [u8]> {
        match self {
            ValueRef::Blob(b) => Ok(b),
            other => Err(other.mismatch("blob")),
        }
    }

    pub fn as_blob_or_null(self) -> Result<Option<&'a [u8]>> {
        match self {
            ValueRef::Null => Ok(None),
            other => other.as_blob().map(Some),
        }
    }

    pub fn as_i64(self) -> Result<i64> {
        match self {
            ValueRef::Integer(i) => Ok(i),
            other => Err(other.mismatch("integer")),
        }
    }
}

impl<'a> From<rusqlite::types::ValueRef<'a>> for ValueRef<'a> {
    fn from(v: rusqlite::types::ValueRef<'a>) -> ValueRef<'a> {
        use rusqlite::types::ValueRef as S;
        match v {
            S::Null => ValueRef::Null,
            S::Integer(i) => ValueRef::Integer(i),
            S::Real(r) => ValueRef::Real(r),
            S::Text(t) => ValueRef::Text(t),
            S::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as S};
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => S::Null,
            Value::Integer(i) => S::Integer(i),
            Value::Real(r) => S::Real(r),
            Value::Text(t) => S::Text(t.as_bytes()),
            Value::Blob(b) => S::Blob(b),
        }))
    }
}

/// What may be bound to a statement's parameter.
pub trait Param {
    fn value(&self) -> Value<'_>;
}

macro_rules! integer_params {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                Value::Integer(i64::from(*self))
            }
        }
    )*};
}
integer_params!(i64, i32, i16, i8, u32, u16, u8, bool);

// Sizes, counts and times: far below i64::MAX wherever the stores bind them (an object is at
// most 5 TiB). A value past it would be a bug upstream; it is bound as i64::MAX rather than
// wrapped to a negative number.
impl Param for u64 {
    fn value(&self) -> Value<'_> {
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Param for usize {
    fn value(&self) -> Value<'_> {
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Param for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl<const N: usize> Param for [u8; N] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl Param for bytes::Bytes {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl Param for std::sync::Arc<str> {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

impl<T: Param + ?Sized> Param for Box<T> {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

impl Param for Value<'_> {
    fn value(&self) -> Value<'_> {
        *self
    }
}

/// A statement's parameters, in order: a tuple, an array, a slice of `&dyn Param`
/// (`params!`), or `[]` for none.
pub trait Params {
    fn values<'a>(&'a self, out: &mut Vec<Value<'a>>);
}

impl Params for [&dyn Param; 0] {
    fn values<'a>(&'a self, _out: &mut Vec<Value<'a>>) {}
}

impl Params for () {
    fn values<'a>(&'a self, _out: &mut Vec<Value<'a>>) {}
}

impl Params for &[&dyn Param] {
    fn values<'a>(&'a self, out: &mut Vec<Value<'a>>) {
        out.extend(self.iter().map(|p| p.value()));
    }
}

impl Params for Vec<&dyn Param> {
    fn values<'a>(&'a self, out: &mut Vec<Value<'a>>) {
        out.extend(self.iter().map(|p| p.value()));
    }
}

impl Params for Vec<Value<'_>> {
    fn values<'a>(&'a self, out: &mut Vec<Value<'a>>) {
        out.extend(self.iter().copied());
    }
}

impl<const N: usize> Params for &[&dyn Param; N] {
    fn values<'a>(&'a self, out: &mut Vec<Value<'a>>) {
        out.extend(self.iter().map(|p| p.value()));
    }
}

macro_rules! array_params {
    ($($n:literal)*) => {$(
        impl<T: Param> Params for [T; $n] {
            fn values<'a>(&'a self, out: &mut Vec<Value<'a>>) {
                out.extend(self.iter().map(|p| p.value()));
            }
        }
    )*};
}
array_params!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

macro_rules! tuple_params {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: Param),+> Params for ($($t,)+) {
            fn values<'a>(&'a self, out: &mut Vec<Value<'a>>) {
                $(out.push(self.$i.value());)+
            }
        }
    )*};
}
tuple_params! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15)
}

/// Parameters of different types as one list: `params![bucket, key, size]`.
#[macro_export]
macro_rules! sql_params {
    () => { &[] as &[&dyn $crate::db::sql::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::db::sql::Param),+] as &[&dyn $crate::db::sql::Param] };
}

/// What a column may be read as. The conversions are SQLite's strict ones on both engines:
/// an integer column is not read as text, nor text as a blob.
pub trait FromColumn: Sized {
    fn from_column(v: ValueRef<'_>) -> Result<Self>;
}

impl FromColumn for i64 {
    fn from_column(v: ValueRef<'_>) -> Result<i64> {
        v.as_i64()
    }
}

macro_rules! narrow_integers {
    ($($t:ty),*) => {$(
        impl FromColumn for $t {
            fn from_column(v: ValueRef<'_>) -> Result<$t> {
                let i = v.as_i64()?;
                <$t>::try_from(i).map_err(|_| Error::OutOfRange { value: i, wanted: stringify!($t) })
            }
        }
    )*};
}
narrow_integers!(i32, i16, i8, u64, u32, u16, u8, usize);

impl FromColumn for bool {
    fn from_column(v: ValueRef<'_>) -> Result<bool> {
        v.as_i64().map(|i| i != 0)
    }
}

impl FromColumn for f64 {
    fn from_column(v: ValueRef<'_>) -> Result<f64> {
        match v {
            ValueRef::Real(r) => Ok(r),
            #[allow(clippy::cast_precision_loss)]
            ValueRef::Integer(i) => Ok(i as f64),
            other => Err(other.mismatch("real")),
        }
    }
}

impl FromColumn for String {
    fn from_column(v: ValueRef<'_>) -> Result<String> {
        v.as_str().map(str::to_owned)
    }
}

impl FromColumn for Box<str> {
    fn from_column(v: ValueRef<'_>) -> Result<Box<str>> {
        v.as_str().map(Box::from)
    }
}

impl FromColumn for std::sync::Arc<str> {
    fn from_column(v: ValueRef<'_>) -> Result<std::sync::Arc<str>> {
        v.as_str().map(std::sync::Arc::from)
    }
}

impl FromColumn for Vec<u8> {
    fn from_column(v: ValueRef<'_>) -> Result<Vec<u8>> {
        v.as_blob().map(<[u8]>::to_vec)
    }
}

impl<const N: usize> FromColumn for [u8; N] {
    fn from_column(v: ValueRef<'_>) -> Result<[u8; N]> {
        let b = v.as_blob()?;
        b.try_into().map_err(|_| Error::Conversion {
            wanted: "a blob of the expected length",
            found: "a blob of another length",
        })
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn from_column(v: ValueRef<'_>) -> Result<Option<T>> {
        match v {
            ValueRef::Null => Ok(None),
            other => T::from_column(other).map(Some),
        }
    }
}
