//! The PostgreSQL side of the seam: one client connection with its prepared statements, the
//! placeholder rewrite (`?1` to `$1`), and the value conversions both ways.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::value::{Value, ValueRef};
use super::{Error, Result};

/// Statements kept prepared per connection; past this many the cache starts over (a statement
/// text built with a variable number of placeholders must not grow it without bound).
const CACHED_STATEMENTS: usize = 512;

pub(crate) struct PgConn {
    /// `None` only while dropping.
    client: RefCell<Option<postgres::Client>>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    /// The channel this connection's commits are announced on, and the node's name.
    announce: Option<(String, String)>,
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // Closing the client blocks on its own runtime, which panics on a thread driving
        // another (a pool dropped by async code): close it on a thread of its own then.
        if tokio::runtime::Handle::try_current().is_ok() {
            if let Some(client) = self.client.get_mut().take() {
                let _ = std::thread::Builder::new()
                    .name("pg-close".into())
                    .spawn(move || drop(client));
            }
        }
    }
}

impl PgConn {
    pub(crate) fn new(client: postgres::Client) -> PgConn {
        PgConn {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            announce: None,
        }
    }

    pub(crate) fn set_announce(&mut self, channel: &str, node: &str) {
        self.announce = Some((channel.to_owned(), node.to_owned()));
    }

    /// The channel and node name for `crate::cluster::notify`.
    pub(crate) fn announce(&self) -> Option<(&str, &str)> {
        self.announce
            .as_ref()
            .map(|(c, n)| (c.as_str(), n.as_str()))
    }

    pub(crate) fn client(&self) -> std::cell::RefMut<'_, postgres::Client> {
        std::cell::RefMut::map(self.client.borrow_mut(), |c| {
            c.as_mut().expect("a client until dropped")
        })
    }

    pub(super) fn prepare(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let text = placeholders(sql);
        let stmt = self.client().prepare(&text)?;
        let mut cache = self.statements.borrow_mut();
        if cache.len() >= CACHED_STATEMENTS {
            cache.clear();
        }
        cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    pub(super) fn execute(&self, stmt: &postgres::Statement, values: &[Value<'_>]) -> Result<u64> {
        let refs = refs(values);
        Ok(self.client().execute(stmt, &refs)?)
    }

    pub(super) fn query(
        &self,
        stmt: &postgres::Statement,
        values: &[Value<'_>],
    ) -> Result<Vec<postgres::Row>> {
        let refs = refs(values);
        Ok(self.client().query(stmt, &refs)?)
    }

    /// Statements without parameters, through the simple query protocol (several may be
    /// separated by semicolons).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client().batch_execute(sql)?)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client
            .borrow()
            .as_ref()
            .is_none_or(postgres::Client::is_closed)
    }
}

fn refs<'a>(values: &'a [Value<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// SQLite's statement text as PostgreSQL's: `?NNN` becomes `$NNN`, and a bare `?` the number
/// after the largest used so far (SQLite's rule); SQLite's planner hint `INDEXED BY name` is
/// dropped (PostgreSQL's planner picks the index). String literals, quoted identifiers and
/// comments are copied as they are.
pub(crate) fn placeholders(sql: &str) -> String {
    let sql = &drop_index_hints(sql);
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut largest = 0u32;
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'?' => {
                out.push_str(&sql[copied..i]);
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let number = match sql[i + 1..i + 1 + digits].parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => largest + 1,
                };
                largest = largest.max(number);
                out.push('$');
                out.push_str(&number.to_string());
                i += 1 + digits;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    out
}

/// `sql` without SQLite's `INDEXED BY name` clauses (written in upper case, as the stores do).
fn drop_index_hints(sql: &str) -> std::borrow::Cow<'_, str> {
    const HINT: &str = " INDEXED BY ";
    if !sql.contains(HINT) {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(HINT) {
        out.push_str(&rest[..at]);
        let after = &rest[at + HINT.len()..];
        let name = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        rest = &after[name..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                #[allow(clippy::cast_precision_loss)]
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                _ => Err(format!("an integer bound to a parameter of type {ty}").into()),
            },
            Value::Real(r) => match *ty {
                Type::FLOAT8 => r.to_sql(ty, out),
                #[allow(clippy::cast_possible_truncation)]
                Type::FLOAT4 => (r as f32).to_sql(ty, out),
                _ => Err(format!("a real bound to a parameter of type {ty}").into()),
            },
            Value::Text(t) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    t.to_sql(ty, out)
                }
                _ => Err(format!("text bound to a parameter of type {ty}").into()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                _ => Err(format!("a blob bound to a parameter of type {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Column `i` of `row` as one of SQLite's kinds.
pub(super) fn column(row: &postgres::Row, i: usize) -> Result<ValueRef<'_>> {
    let Some(column) = row.columns().get(i) else {
        return Err(Error::NoColumn(i));
    };
    let ty = column.type_().clone();
    Ok(match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(ValueRef::Null, ValueRef::Integer),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map_or(ValueRef::Null, |v| ValueRef::Integer(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map_or(ValueRef::Null, |v| ValueRef::Integer(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map_or(ValueRef::Null, |v| ValueRef::Integer(v.into())),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(i)?
            .map_or(ValueRef::Null, ValueRef::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map_or(ValueRef::Null, |v| ValueRef::Real(v.into())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => row
            .try_get::<_, Option<&str>>(i)?
            .map_or(ValueRef::Null, |t| ValueRef::Text(t.as_bytes())),
        Type::BYTEA => row
            .try_get::<_, Option<&[u8]>>(i)?
            .map_or(ValueRef::Null, ValueRef::Blob),
        other => return Err(Error::ColumnType(other.name().to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(placeholders("SELECT ?1, ?2"), "SELECT $1, $2");
        assert_eq!(placeholders("a = ? AND b = ?"), "a = $1 AND b = $2");
        assert_eq!(placeholders("a = ?3 AND b = ?"), "a = $3 AND b = $4");
        assert_eq!(placeholders("x = '?1' AND y = ?1"), "x = '?1' AND y = $1");
        assert_eq!(placeholders("\"q?\" = ?2 -- ?9\n"), "\"q?\" = $2 -- ?9\n");
        assert_eq!(placeholders("LIMIT ?12"), "LIMIT $12");
        assert_eq!(
            placeholders("SELECT 1 FROM objects INDEXED BY objects_listed WHERE b = ?1"),
            "SELECT 1 FROM objects WHERE b = $1"
        );
    }
}
