using HealthScoring.Service.Ingestion;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Service.Storage;

/// <summary>
/// The SQLite ingest writer. SQLite has one writer at a time, so this keeps one dedicated connection and
/// its prepared multi-row statements; each group of batches is one <c>BEGIN IMMEDIATE</c> transaction.
/// Not Dapper, not even ADO.NET parameters: this path binds about a million values a second, by position
/// (see <see cref="SqliteBulkStatement"/>).
/// </summary>
internal sealed class SqliteUsageStore(SqliteStoreDataSource db) : IUsageStore, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;

    private readonly SqliteBulkStatement _insertKeys = new(
        "INSERT INTO event_keys (idem_key, received_day) VALUES",
        "?, ?",
        "ON CONFLICT (idem_key) DO NOTHING RETURNING idem_key",
        rowsPerStatement: 500);

    private readonly SqliteBulkStatement _upsertDaily = new(
        "INSERT INTO usage_daily (account_id, day, event_name, event_count, quantity) VALUES",
        "?, ?, ?, ?, ?",
        """
        ON CONFLICT (account_id, day, event_name) DO UPDATE SET
          event_count = event_count + excluded.event_count,
          quantity = quantity + excluded.quantity
        """,
        rowsPerStatement: 200);

    private readonly SqliteBulkStatement _upsertUsers = new(
        "INSERT INTO active_users_daily (account_id, day, user_id, event_count) VALUES",
        "?, ?, ?, ?",
        "ON CONFLICT (account_id, day, user_id) DO UPDATE SET event_count = event_count + excluded.event_count",
        rowsPerStatement: 250);

    private readonly SqliteBulkStatement _upsertAccounts = new(
        """
        INSERT INTO accounts (account_id, created_at, updated_at, first_event_at, last_event_at,
                              event_count, quantity_total, usage_changed_from_day) VALUES
        """,
        "?, ?, ?, ?, ?, ?, ?, ?",
        """
        ON CONFLICT (account_id) DO UPDATE SET
          updated_at = excluded.updated_at,
          first_event_at = CASE WHEN first_event_at IS NULL OR excluded.first_event_at < first_event_at
                                THEN excluded.first_event_at ELSE first_event_at END,
          last_event_at = CASE WHEN last_event_at IS NULL OR excluded.last_event_at > last_event_at
                               THEN excluded.last_event_at ELSE last_event_at END,
          event_count = event_count + excluded.event_count,
          quantity_total = quantity_total + excluded.quantity_total,
          dirty_version = dirty_version + 1,
          usage_changed_from_day = CASE WHEN usage_changed_from_day IS NULL OR excluded.usage_changed_from_day < usage_changed_from_day
                                        THEN excluded.usage_changed_from_day ELSE usage_changed_from_day END
        """,
        rowsPerStatement: 100);

    public async Task<BatchOutcome[]> WriteAsync(IngestGroup group, int receivedDay, long receivedAtMs, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var connection = Connection();
            try
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                var keys = group.CandidateKeys().OrderBy(k => k.Value).ToList();
                var fresh = new HashSet<IdempotencyKey>(keys.Count);
                _insertKeys.Execute(connection, keys, (key, row) =>
                {
                    Span<byte> bytes = stackalloc byte[16];
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, key.Value);
                    row.Blob(bytes);
                    row.Int(receivedDay);
                },
                statement => fresh.Add(IdempotencyKey.FromBytes(SQLitePCL.raw.sqlite3_column_blob(statement, 0))));

                var delta = group.Resolve(fresh, out var outcomes);
                _upsertDaily.Execute(connection, Sorted(delta.Daily, d => (d.Key.Account, d.Key.Day, d.Key.Name)), (d, row) =>
                {
                    row.Text(d.Key.Account);
                    row.Int(d.Key.Day);
                    row.Text(d.Key.Name);
                    row.Int(d.Value.Count);
                    row.Real(d.Value.Quantity);
                });
                _upsertUsers.Execute(connection, Sorted(delta.Users, u => (u.Key.Account, u.Key.Day, u.Key.User)), (u, row) =>
                {
                    row.Text(u.Key.Account);
                    row.Int(u.Key.Day);
                    row.Text(u.Key.User);
                    row.Int(u.Value);
                });
                _upsertAccounts.Execute(connection, delta.Accounts.OrderBy(a => a.Key, StringComparer.Ordinal).ToList(), (a, row) =>
                {
                    row.Text(a.Key);
                    row.Int(receivedAtMs);
                    row.Int(receivedAtMs);
                    row.Int(a.Value.FirstAt);
                    row.Int(a.Value.LastAt);
                    row.Int(a.Value.Count);
                    row.Real(a.Value.Quantity);
                    row.Int(a.Value.FirstDay);
                });
                transaction.Commit();
                return outcomes;
            }
            catch
            {
                ResetConnection();
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<int> PurgeKeysAsync(int receivedBeforeDay, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = Connection().CreateCommand();
            command.CommandText = "DELETE FROM event_keys WHERE received_day < @day";
            command.Parameters.AddWithValue("@day", receivedBeforeDay);
            return command.ExecuteNonQuery();
        }
        catch
        {
            ResetConnection();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Rows in primary-key order (B-tree locality), compared ordinally: a culture-aware compare costs more than the insert.</summary>
    private static List<T> Sorted<T>(IEnumerable<T> rows, Func<T, (string Account, int Day, string Name)> key)
    {
        var list = rows.ToList();
        list.Sort((a, b) =>
        {
            var (x, y) = (key(a), key(b));
            var c = string.CompareOrdinal(x.Account, y.Account);
            c = c != 0 ? c : x.Day.CompareTo(y.Day);
            return c != 0 ? c : string.CompareOrdinal(x.Name, y.Name);
        });
        return list;
    }

    public void Dispose()
    {
        ResetConnection();
        _gate.Dispose();
    }

    private SqliteConnection Connection() => _connection ??= (SqliteConnection)db.OpenConnection();

    private void ResetConnection()
    {
        _insertKeys.Reset();
        _upsertDaily.Reset();
        _upsertUsers.Reset();
        _upsertAccounts.Reset();
        _connection?.Dispose();
        _connection = null;
    }
}
