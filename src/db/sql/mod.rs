//! The seam between the stores and their database engine. The object index and the IAM store
//! write their statements once, in the SQL that SQLite and PostgreSQL share, against this
//! `Connection`; it runs them on either engine. Its API is the small part of rusqlite's that
//! the stores use (`prepare_cached`, `query_row`, `query_map`, `execute`, `Row::get`,
//! `optional`), with SQLite's value kinds on both sides (`value`). Where the engines' SQL
//! differs, a store asks `Connection::engine` and picks its text; `docs/scale-out.md` lists
//! those places.

pub(crate) mod postgres;
pub mod value;

pub use value::{FromColumn, Param, Params, Value, ValueRef};

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a statement failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("the query returned no rows")]
    NoRows,
    #[error("a column holds {found} where {wanted} was expected")]
    Conversion {
        wanted: &'static str,
        found: &'static str,
    },
    #[error("a column's value {value} does not fit {wanted}")]
    OutOfRange { value: i64, wanted: &'static str },
    #[error("no column {0}")]
    NoColumn(usize),
    #[error("a column of type {0}, which the stores do not read")]
    ColumnType(String),
    #[error("{0}")]
    Invalid(String),
}

/// A PostgreSQL error with the server's message and code (the client's own `Display` says
/// only "db error").
fn pg_message(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL {}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// The SQLSTATE classes the stores tell apart.
const PG_UNIQUE_VIOLATION: &str = "23505";
const PG_FOREIGN_KEY_VIOLATION: &str = "23503";
const PG_DISK_FULL: &str = "53100";

impl Error {
    /// No row where one was asked for (`query_row`).
    pub fn is_no_rows(&self) -> bool {
        matches!(
            self,
            Error::NoRows | Error::Sqlite(rusqlite::Error::QueryReturnedNoRows)
        )
    }

    fn pg_code(&self) -> Option<&str> {
        match self {
            Error::Postgres(e) => e.code().map(|c| c.code()),
            _ => None,
        }
    }

    /// A UNIQUE or PRIMARY KEY constraint refused the row.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => self.pg_code() == Some(PG_UNIQUE_VIOLATION),
        }
    }

    /// A FOREIGN KEY constraint refused the change.
    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            }
            _ => self.pg_code() == Some(PG_FOREIGN_KEY_VIOLATION),
        }
    }

    /// The database could not write because its storage is full.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            _ => self.pg_code() == Some(PG_DISK_FULL),
        }
    }

    /// The database cannot answer now but may soon: its connection is gone or refused, it is
    /// shutting down, or a concurrent transaction made this one give up (PostgreSQL). Retried
    /// by clients when answered 503.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Postgres(e) => {
                e.is_closed()
                    || match e.code().map(|c| c.code()) {
                        Some(code) => {
                            code.starts_with("08")
                                || matches!(
                                    code,
                                    "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01"
                                )
                        }
                        // No SQLSTATE: the connection failed before the server answered.
                        None => e.as_db_error().is_none(),
                    }
            }
            _ => false,
        }
    }

    /// The SQLite error, if it is one (for the callers that read SQLite's result codes).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Error> {
        match self {
            Error::Sqlite(e) => Some(e),
            _ => None,
        }
    }
}

/// `optional()` on a `query_row`'s result: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_no_rows() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One connection to either engine. Used by one thread at a time (the writer thread, a pooled
/// read, a worker's thread-local point read).
pub struct Connection {
    inner: Inner,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::PgConn>),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("engine", &self.engine())
            .finish_non_exhaustive()
    }
}

impl From<rusqlite::Connection> for Connection {
    fn from(conn: rusqlite::Connection) -> Connection {
        Connection {
            inner: Inner::Sqlite(conn),
        }
    }
}

impl Connection {
    pub(crate) fn postgres(conn: postgres::PgConn) -> Connection {
        Connection {
            inner: Inner::Postgres(Box::new(conn)),
        }
    }

    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Sqlite(_) => Engine::Sqlite,
            Inner::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, hooks, the backup API).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    pub(crate) fn as_postgres(&self) -> Option<&postgres::PgConn> {
        match &self.inner {
            Inner::Postgres(c) => Some(c),
            Inner::Sqlite(_) => None,
        }
    }

    pub(crate) fn into_sqlite(self) -> Option<rusqlite::Connection> {
        match self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    /// A statement from the connection's cache of prepared statements (prepared on first use).
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement {
            inner: match &self.inner {
                Inner::Sqlite(c) => StmtInner::SqliteCached(c.prepare_cached(sql)?),
                Inner::Postgres(c) => StmtInner::Postgres(c, c.prepare(sql)?),
            },
        })
    }

    /// A statement prepared for this use only (SQLite; PostgreSQL keeps every statement).
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement {
            inner: match &self.inner {
                Inner::Sqlite(c) => StmtInner::Sqlite(c.prepare(sql)?),
                Inner::Postgres(c) => StmtInner::Postgres(c, c.prepare(sql)?),
            },
        })
    }

    /// Runs one statement; returns the number of rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// The first row of a query, mapped by `f`; `Error::NoRows` when there is none.
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare(sql)?.query_row(params, f)
    }

    /// `query_row` through the statement cache: for statements on the request path, which
    /// cost less to run than to prepare.
    pub fn cached_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// `execute` through the statement cache.
    pub fn cached_execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// A read transaction: the statements run through it see one committed state. Ended
    /// (rolled back: it wrote nothing) when dropped. For read connections only.
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        let begin = match self.engine() {
            Engine::Sqlite => "BEGIN",
            // PostgreSQL's default isolation gives each statement its own snapshot.
            Engine::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        };
        self.cached_execute(begin, [])?;
        Ok(Snapshot(self))
    }

    /// Runs `f` in a write transaction of its own, committed when `f` succeeds and rolled
    /// back when it fails: for connections other than a database's writer (a backup's hold,
    /// the offline commands). SQLite takes its write lock at once.
    pub fn transaction<T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&Connection) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let begin = match self.engine() {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN",
        };
        self.execute_batch(begin)?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.execute_batch("COMMIT") {
                    let _ = self.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Statements without parameters, separated by semicolons.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(c) => c.batch(sql),
        }
    }
}

/// `Connection::snapshot`'s read transaction.
pub struct Snapshot<'c>(&'c Connection);

impl std::ops::Deref for Snapshot<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.cached_execute("ROLLBACK", []) {
            tracing::error!(error = %e, "ending a read transaction failed");
        }
    }
}

/// A prepared statement.
pub struct Statement<'c> {
    inner: StmtInner<'c>,
}

enum StmtInner<'c> {
    Sqlite(rusqlite::Statement<'c>),
    SqliteCached(rusqlite::CachedStatement<'c>),
    Postgres(&'c postgres::PgConn, ::postgres::Statement),
}

fn collect<P: Params>(params: &P) -> Vec<Value<'_>> {
    let mut values = Vec::new();
    params.values(&mut values);
    values
}

impl<'c> Statement<'c> {
    /// Runs the statement; returns the number of rows it changed.
    #[allow(clippy::needless_pass_by_value)] // rusqlite's signature: `execute((a, b))`
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = collect(&params);
        match &mut self.inner {
            StmtInner::Sqlite(s) => Ok(s.execute(rusqlite::params_from_iter(values.iter()))?),
            StmtInner::SqliteCached(s) => Ok(s.execute(rusqlite::params_from_iter(values.iter()))?),
            StmtInner::Postgres(conn, stmt) => {
                let changed = conn.execute(stmt, &values)?;
                Ok(usize::try_from(changed).unwrap_or(usize::MAX))
            }
        }
    }

    /// How many parameters the statement takes.
    pub fn parameter_count(&self) -> usize {
        match &self.inner {
            StmtInner::Sqlite(s) => s.parameter_count(),
            StmtInner::SqliteCached(s) => s.parameter_count(),
            StmtInner::Postgres(_, stmt) => stmt.params().len(),
        }
    }

    /// The rows of a query, one at a time.
    #[allow(clippy::needless_pass_by_value)] // rusqlite's signature: `query((a, b))`
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let values = collect(&params);
        let inner = match &mut self.inner {
            StmtInner::Sqlite(s) => {
                RowsInner::Sqlite(s.query(rusqlite::params_from_iter(values.iter()))?)
            }
            StmtInner::SqliteCached(s) => {
                RowsInner::Sqlite(s.query(rusqlite::params_from_iter(values.iter()))?)
            }
            StmtInner::Postgres(conn, stmt) => {
                RowsInner::Postgres(conn.query(stmt, &values)?.into_iter(), None)
            }
        };
        Ok(Rows { inner })
    }

    /// The rows of a query, each mapped by `f`.
    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }

    /// The first row, mapped by `f`; `Error::NoRows` when there is none.
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => f(&row),
            None => Err(Error::NoRows),
        }
    }

    /// Whether the query returns a row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }

    /// The SQLite statement, for what only SQLite has (statement status counters).
    pub fn as_sqlite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match &mut self.inner {
            StmtInner::Sqlite(s) => Some(s),
            StmtInner::SqliteCached(s) => Some(s),
            StmtInner::Postgres(..) => None,
        }
    }
}

/// The rows of a query. SQLite steps through them as they are asked for; PostgreSQL has
/// them all once the query returns (every query that may return many rows has a `LIMIT`).
pub struct Rows<'s> {
    inner: RowsInner<'s>,
}

enum RowsInner<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres(std::vec::IntoIter<::postgres::Row>, Option<::postgres::Row>),
}

impl Rows<'_> {
    /// The next row, or `None` after the last. (Not an `Iterator`: the row borrows `self`.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match &mut self.inner {
            RowsInner::Sqlite(rows) => Ok(rows.next()?.map(|r| Row {
                inner: RowInner::Sqlite(r),
            })),
            RowsInner::Postgres(rows, current) => {
                *current = rows.next();
                Ok(current.as_ref().map(|r| Row {
                    inner: RowInner::Postgres(r),
                }))
            }
        }
    }
}

/// `query_map`'s rows: an iterator of `f`'s answers.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.f)(&row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// One row of a query's answer.
pub struct Row<'r> {
    inner: RowInner<'r>,
}

enum RowInner<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r ::postgres::Row),
}

/// A column's position (columns are read by position only).
pub trait ColumnIndex {
    fn index(self) -> usize;
}

impl ColumnIndex for usize {
    fn index(self) -> usize {
        self
    }
}

impl Row<'_> {
    /// Column `idx`, converted to `T`.
    pub fn get<I: ColumnIndex, T: FromColumn>(&self, idx: I) -> Result<T> {
        T::from_column(self.get_ref(idx)?)
    }

    /// Column `idx` as it is stored, borrowed from the row.
    pub fn get_ref<I: ColumnIndex>(&self, idx: I) -> Result<ValueRef<'_>> {
        let i = idx.index();
        match self.inner {
            RowInner::Sqlite(r) => Ok(r.get_ref(i)?.into()),
            RowInner::Postgres(r) => postgres::column(r, i),
        }
    }
}
