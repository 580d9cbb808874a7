using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace HealthScoring.Service.Storage;

/// <summary>
/// A multi-row <c>INSERT ... VALUES (..), (..) [tail]</c> for the ingest hot path: one statement per chunk of
/// rows, prepared once per connection and bound by position through SQLite's own API. Positional binding is the
/// point: Microsoft.Data.Sqlite binds by name, and SQLite resolves a name by scanning the statement's parameter
/// list, which made a 2,500-parameter statement spend most of its time in string compares (profiled: 60% of the
/// writer's CPU in strncmp). Runs inside the connection's current transaction.
/// </summary>
internal sealed class SqliteBulkStatement(string head, string rowTemplate, string tail, int rowsPerStatement) : IDisposable
{
    private readonly RowBinder _binder = new();
    private sqlite3_stmt? _full;

    /// <summary>Binds each row's values in <paramref name="bind"/>, in column order; <paramref name="onRow"/> reads RETURNING rows.</summary>
    public void Execute<T>(SqliteConnection connection, IReadOnlyList<T> rows, Action<T, RowBinder> bind, Action<sqlite3_stmt>? onRow = null)
    {
        var db = connection.Handle!;
        for (var start = 0; start < rows.Count; start += rowsPerStatement)
        {
            var count = Math.Min(rowsPerStatement, rows.Count - start);
            var statement = count == rowsPerStatement ? _full ??= Prepare(db, count) : Prepare(db, count);
            try
            {
                _binder.Reset(statement);
                for (var i = 0; i < count; i++)
                {
                    bind(rows[start + i], _binder);
                }

                int rc;
                while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
                {
                    onRow?.Invoke(statement);
                }

                if (rc != raw.SQLITE_DONE)
                {
                    SqliteException.ThrowExceptionForRC(rc, db);
                }
            }
            finally
            {
                raw.sqlite3_reset(statement);
                if (count != rowsPerStatement)
                {
                    statement.Dispose();
                }
            }
        }
    }

    /// <summary>Forget the prepared statement (its connection is gone).</summary>
    public void Reset()
    {
        _full?.Dispose();
        _full = null;
    }

    public void Dispose() => Reset();

    private sqlite3_stmt Prepare(sqlite3 db, int rows)
    {
        var sql = new StringBuilder(head.Length + tail.Length + rows * (rowTemplate.Length + 4));
        sql.Append(head);
        for (var r = 0; r < rows; r++)
        {
            sql.Append(r == 0 ? "\n(" : ",\n(").Append(rowTemplate).Append(')');
        }

        sql.Append('\n').Append(tail);
        var rc = raw.sqlite3_prepare_v2(db, sql.ToString(), out var statement);
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, db);
        }

        return statement;
    }
}

/// <summary>Binds the next positional parameter of a statement (1, 2, 3, ... in the order of the calls).</summary>
internal sealed class RowBinder
{
    private sqlite3_stmt? _statement;
    private int _index;

    public void Reset(sqlite3_stmt statement)
    {
        _statement = statement;
        _index = 0;
    }

    public void Int(long value) => Check(raw.sqlite3_bind_int64(_statement, ++_index, value));

    public void Real(double value) => Check(raw.sqlite3_bind_double(_statement, ++_index, value));

    public void Text(string value) => Check(raw.sqlite3_bind_text(_statement, ++_index, value));

    public void Blob(ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_blob(_statement, ++_index, value));

    private static void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException($"Binding a parameter failed (SQLite error {rc}).", rc);
        }
    }
}
