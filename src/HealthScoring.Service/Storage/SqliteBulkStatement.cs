using System.Text;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Service.Storage;

/// <summary>
/// A multi-row <c>INSERT ... VALUES (..), (..) [tail]</c> for the ingest hot path: one statement per
/// chunk of rows instead of one per row, the full-chunk statement prepared once per connection.
/// Row placeholders are <c>@p{n}</c>, numbered row by row; <c>@now</c> is shared by every row.
/// </summary>
internal sealed class SqliteBulkStatement(string head, string rowTemplate, string tail, int columns, int rowsPerStatement) : IDisposable
{
    private (SqliteCommand Command, SqliteParameter[] Parameters)? _full;

    public void Execute<T>(
        SqliteConnection connection,
        SqliteTransaction transaction,
        IReadOnlyList<T> rows,
        long now,
        Action<T, SqliteParameter[], int> bind,
        Action<SqliteDataReader>? onRow = null)
    {
        for (var start = 0; start < rows.Count; start += rowsPerStatement)
        {
            var count = Math.Min(rowsPerStatement, rows.Count - start);
            var statement = count == rowsPerStatement ? _full ??= Create(connection, count) : Create(connection, count);
            try
            {
                statement.Command.Transaction = transaction;
                statement.Command.Parameters["@now"].Value = now;
                for (var i = 0; i < count; i++)
                {
                    bind(rows[start + i], statement.Parameters, i * columns);
                }

                if (onRow is null)
                {
                    statement.Command.ExecuteNonQuery();
                }
                else
                {
                    using var reader = statement.Command.ExecuteReader();
                    while (reader.Read())
                    {
                        onRow(reader);
                    }
                }
            }
            finally
            {
                if (count != rowsPerStatement)
                {
                    statement.Command.Dispose();
                }
            }
        }
    }

    /// <summary>Forget the prepared statement (its connection is gone).</summary>
    public void Reset()
    {
        _full?.Command.Dispose();
        _full = null;
    }

    public void Dispose() => Reset();

    private (SqliteCommand Command, SqliteParameter[] Parameters) Create(SqliteConnection connection, int rows)
    {
        var sql = new StringBuilder(head.Length + tail.Length + rows * (rowTemplate.Length + 16));
        sql.Append(head);
        var parameters = new SqliteParameter[rows * columns];
        var command = connection.CreateCommand();
        for (var r = 0; r < rows; r++)
        {
            sql.Append(r == 0 ? "\n(" : ",\n(");
            var row = rowTemplate;
            for (var c = 0; c < columns; c++)
            {
                var name = "@p" + (r * columns + c).ToString(System.Globalization.CultureInfo.InvariantCulture);
                row = ReplaceFirst(row, "?", name);
                parameters[r * columns + c] = command.Parameters.Add(new SqliteParameter(name, null));
            }

            sql.Append(row).Append(')');
        }

        sql.Append('\n').Append(tail);
        command.Parameters.Add(new SqliteParameter("@now", 0L));
        command.CommandText = sql.ToString();
        command.Prepare();
        return (command, parameters);
    }

    private static string ReplaceFirst(string text, string find, string replacement)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        return text[..at] + replacement + text[(at + find.Length)..];
    }
}
