using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace HealthScoring.Service.Storage;

/// <summary>
/// A statement prepared once and run for many rows inside one transaction, its values given by position in the
/// order the parameters were declared (per-row Dapper calls re-prepare the statement every time: more than
/// executing it costs).
/// </summary>
/// <remarks>
/// On SQLite the statement is SQLite's own, bound by index: Microsoft.Data.Sqlite looks every parameter up by name
/// and re-enumerates the command's statements on each execution, which was about a third of the scorer's save
/// (profiled). Elsewhere it is the provider's command with typed parameters.
/// </remarks>
internal abstract class PreparedCommand : IAsyncDisposable
{
    /// <summary>A text value given as UTF-8 (SQLite stores it as it is; other providers get the string).</summary>
    public readonly record struct Utf8Text(byte[] Bytes);

    public static PreparedCommand Create(DbConnection connection, DbTransaction transaction, string sql, params (string Name, DbType Type)[] parameters) =>
        connection is SqliteConnection sqlite
            ? new SqliteStatement(sqlite, sql, parameters)
            : new ProviderCommand(connection, transaction, sql, parameters);

    /// <summary>Runs the statement with new values, in the order its parameters were declared; the rows it changed.</summary>
    public abstract Task<int> ExecuteAsync(CancellationToken cancellationToken, params object?[] values);

    public abstract ValueTask DisposeAsync();

    /// <summary>Binds one value to a SQLite statement's parameter by index (1-based); SQLite's result code.</summary>
    public static int BindSqlite(sqlite3_stmt statement, int index, object? value) => value switch
    {
        null or DBNull => raw.sqlite3_bind_null(statement, index),
        string text => raw.sqlite3_bind_text(statement, index, text),
        Utf8Text utf8 => raw.sqlite3_bind_text(statement, index, utf8.Bytes.AsSpan()),
        int number => raw.sqlite3_bind_int64(statement, index, number),
        long number => raw.sqlite3_bind_int64(statement, index, number),
        bool flag => raw.sqlite3_bind_int64(statement, index, flag ? 1 : 0),
        double.NaN => throw new ArgumentException("NaN cannot be stored.", nameof(value)),
        double real => raw.sqlite3_bind_double(statement, index, real),
        byte[] bytes => raw.sqlite3_bind_blob(statement, index, bytes),
        _ => throw new ArgumentException($"Cannot bind a {value.GetType().Name} to a SQLite parameter.", nameof(value)),
    };

    private sealed class ProviderCommand : PreparedCommand
    {
        private readonly DbCommand _command;

        public ProviderCommand(DbConnection connection, DbTransaction transaction, string sql, (string Name, DbType Type)[] parameters)
        {
            _command = connection.CreateCommand();
            _command.Transaction = transaction;
            _command.CommandText = sql;
            foreach (var (name, type) in parameters)
            {
                var parameter = _command.CreateParameter();
                parameter.ParameterName = "@" + name;
                parameter.DbType = type;
                _command.Parameters.Add(parameter);
            }
        }

        public override Task<int> ExecuteAsync(CancellationToken cancellationToken, params object?[] values)
        {
            for (var i = 0; i < values.Length; i++)
            {
                _command.Parameters[i].Value = values[i] switch
                {
                    null => DBNull.Value,
                    Utf8Text text => System.Text.Encoding.UTF8.GetString(text.Bytes),
                    var value => value,
                };
            }

            return _command.ExecuteNonQueryAsync(cancellationToken);
        }

        public override ValueTask DisposeAsync() => _command.DisposeAsync();
    }

    /// <summary>
    /// A SQLite statement on the connection's handle (so inside its current transaction), with the index of each
    /// declared parameter resolved once. A name may occur several times in the SQL: SQLite gives every occurrence
    /// of a name the same index.
    /// </summary>
    private sealed class SqliteStatement : PreparedCommand
    {
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _statement;
        private readonly int[] _indexes;

        public SqliteStatement(SqliteConnection connection, string sql, (string Name, DbType Type)[] parameters)
        {
            _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
            if (raw.sqlite3_get_autocommit(_db) != 0)
            {
                throw new InvalidOperationException("A prepared command runs inside a transaction: begin one first.");
            }

            // ThrowExceptionForRC throws only for error codes (not OK, ROW or DONE).
            SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_db, sql, out _statement, out string tail), _db);

            if (!string.IsNullOrWhiteSpace(tail))
            {
                _statement.Dispose();
                throw new ArgumentException("A prepared command holds one statement; the SQL has more.", nameof(sql));
            }

            // 0 for a declared name the statement does not use (its value is ignored, as the provider's commands do).
            _indexes = parameters.Select(p => raw.sqlite3_bind_parameter_index(_statement, "@" + p.Name)).ToArray();
            if (raw.sqlite3_bind_parameter_count(_statement) != _indexes.Where(i => i > 0).Distinct().Count())
            {
                _statement.Dispose();
                throw new ArgumentException("The statement has parameters that were not declared.", nameof(parameters));
            }
        }

        public override Task<int> ExecuteAsync(CancellationToken cancellationToken, params object?[] values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (values.Length != _indexes.Length)
            {
                throw new ArgumentException($"Expected {_indexes.Length} values, got {values.Length}.", nameof(values));
            }

            try
            {
                for (var i = 0; i < values.Length; i++)
                {
                    if (_indexes[i] > 0)
                    {
                        SqliteException.ThrowExceptionForRC(BindSqlite(_statement, _indexes[i], values[i]), _db);
                    }
                }

                SqliteException.ThrowExceptionForRC(raw.sqlite3_step(_statement), _db);
                return Task.FromResult(raw.sqlite3_changes(_db));
            }
            finally
            {
                raw.sqlite3_reset(_statement);
            }
        }

        public override ValueTask DisposeAsync()
        {
            _statement.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
