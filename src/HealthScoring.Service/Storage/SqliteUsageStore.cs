using HealthScoring.Service.Ingestion;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Service.Storage;

/// <summary>
/// The SQLite ingest writer. SQLite has one writer at a time, so the acknowledgement commits as little as it can:
/// per group of batches, one row of packed idempotency keys and one row of encoded events (migration 0008). The
/// keys of the idempotency window are held in memory, so deduplication costs no SQL. The aggregates scoring reads
/// (<c>usage_daily</c>, <c>active_users_daily</c>, <c>accounts</c>) are then folded from the pending rows in large
/// sets (<see cref="FoldAsync"/>), in the transaction that deletes them: after a crash, whatever was not folded
/// still is, and nothing is counted twice. One dedicated connection writes; its bulk statements bind by position
/// (see <see cref="SqliteBulkStatement"/>).
/// </summary>
internal sealed class SqliteUsageStore(SqliteStoreDataSource db) : IUsageStore, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _folding = new(1, 1);
    private readonly FoldProgress _progress = new();
    private SqliteConnection? _connection;
    private HashSet<UInt128>? _keys;
    private long _seenThrough;
    private long _unfolded;

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
            var keys = Keys(connection);
            List<UsageEvent> accepted;
            BatchOutcome[] outcomes;
            long batchId;
            try
            {
                using var transaction = connection.BeginTransaction(deferred: false);

                // Holding the write lock: first take in the keys any other writer on this file committed since.
                CatchUp(connection, keys);
                accepted = group.Accept(key => !keys.Contains(key.Value), out outcomes);
                if (accepted.Count == 0)
                {
                    return outcomes;
                }

                var packed = new byte[accepted.Count * 16];
                for (var i = 0; i < accepted.Count; i++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(packed.AsSpan(i * 16), accepted[i].Key.Value);
                }

                using (var command = connection.CreateCommand())
                {
                    command.CommandText = "INSERT INTO ingest_keys (received_day, keys) VALUES (@day, @keys) RETURNING batch_id";
                    command.Parameters.AddWithValue("@day", receivedDay);
                    command.Parameters.AddWithValue("@keys", packed);
                    batchId = (long)command.ExecuteScalar()!;
                }

                using (var command = connection.CreateCommand())
                {
                    command.CommandText = "INSERT INTO ingest_pending (batch_id, received_at, event_count, events) VALUES (@id, @at, @count, @events)";
                    command.Parameters.AddWithValue("@id", batchId);
                    command.Parameters.AddWithValue("@at", receivedAtMs);
                    command.Parameters.AddWithValue("@count", accepted.Count);
                    command.Parameters.AddWithValue("@events", JournalCodec.Encode(accepted));
                    command.ExecuteNonQuery();
                }

                transaction.Commit();
            }
            catch
            {
                ResetConnection();
                throw;
            }

            _seenThrough = batchId;
            // Only what committed is remembered: a failed group leaves no key behind, so its retry counts.
            foreach (var e in accepted)
            {
                keys.Add(e.Key.Value);
            }

            Interlocked.Add(ref _unfolded, accepted.Count);
            _progress.Accepted(batchId, accepted);
            return outcomes;
        }
        finally
        {
            _gate.Release();
        }
    }

    public long UnfoldedEvents => Interlocked.Read(ref _unfolded);

    public async Task<int> FoldAsync(int maxEvents, CancellationToken cancellationToken)
    {
        await _folding.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(cancellationToken);

            while (true)
            {
                // The oldest pending groups, read beside the writer (WAL). Every group committed after this read has a
                // higher id, and only a fold deletes them (one at a time here; another process's is detected below).
                var rows = new List<(long Id, long ReceivedAt, byte[] Events)>();
                var events = 0;
                using (var read = (SqliteConnection)db.OpenConnection())
                using (var command = read.CreateCommand())
                {
                    command.CommandText = "SELECT batch_id, received_at, event_count, events FROM ingest_pending ORDER BY batch_id";
                    using var reader = command.ExecuteReader();
                    while (events < maxEvents && reader.Read())
                    {
                        rows.Add((reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(3)));
                        events += reader.GetInt32(2);
                    }
                }

                if (rows.Count == 0)
                {
                    return 0;
                }

                // Decoded, summed and sorted before taking the write connection: the acknowledgements go on meanwhile.
                var delta = new UsageDelta();
                foreach (var row in rows)
                {
                    JournalCodec.DecodeInto(row.Events, delta);
                }

                var daily = Sorted(delta.Daily, d => (d.Key.Account, d.Key.Day, d.Key.Name));
                var users = Sorted(delta.Users, u => (u.Key.Account, u.Key.Day, u.Key.User));
                var accounts = delta.Accounts.OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
                var receivedAt = rows.Max(r => r.ReceivedAt);
                var through = rows[^1].Id;

                await _gate.WaitAsync(cancellationToken);
                try
                {
                    var connection = Connection();
                    try
                    {
                        using var transaction = connection.BeginTransaction(deferred: false);
                        Upsert(connection, daily, users, accounts, receivedAt);
                        using var delete = connection.CreateCommand();
                        delete.CommandText = "DELETE FROM ingest_pending WHERE batch_id <= @through";
                        delete.Parameters.AddWithValue("@through", through);
                        var deleted = delete.ExecuteNonQuery();
                        if (deleted != rows.Count)
                        {
                            // Another writer on this file folded some of them first: undo, and read again.
                            transaction.Rollback();
                            continue;
                        }

                        transaction.Commit();

                        // Recounted, not subtracted: exact even when another writer on the file added or folded groups.
                        using var count = connection.CreateCommand();
                        count.CommandText = "SELECT COALESCE(SUM(event_count), 0) FROM ingest_pending";
                        Interlocked.Exchange(ref _unfolded, (long)count.ExecuteScalar()!);
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

                _progress.Folded(through);
                return events;
            }
        }
        finally
        {
            _folding.Release();
        }
    }

    public async Task WaitFoldedAsync(string? accountId, CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        await _progress.WaitAsync(accountId, cancellationToken);
    }

    private void Upsert(
        SqliteConnection connection,
        List<KeyValuePair<(string Account, int Day, string Name), (long Count, double Quantity)>> daily,
        List<KeyValuePair<(string Account, int Day, string User), long>> users,
        List<KeyValuePair<string, AccountDelta>> accounts,
        long receivedAtMs)
    {
        _upsertDaily.Execute(connection, daily, (d, row) =>
        {
            row.Text(d.Key.Account);
            row.Int(d.Key.Day);
            row.Text(d.Key.Name);
            row.Int(d.Value.Count);
            row.Real(d.Value.Quantity);
        });
        _upsertUsers.Execute(connection, users, (u, row) =>
        {
            row.Text(u.Key.Account);
            row.Int(u.Key.Day);
            row.Text(u.Key.User);
            row.Int(u.Value);
        });
        _upsertAccounts.Execute(connection, accounts, (a, row) =>
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
    }

    public async Task<int> PurgeKeysAsync(int receivedBeforeDay, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var connection = Connection();
            var keys = Keys(connection);
            try
            {
                var expired = new List<UInt128>();
                using var transaction = connection.BeginTransaction(deferred: false);
                ReadKeys(connection, "SELECT keys FROM ingest_keys WHERE received_day < @day", receivedBeforeDay, expired.Add);
                ReadKeys(connection, "SELECT idem_key FROM event_keys WHERE received_day < @day", receivedBeforeDay, expired.Add);
                using var command = connection.CreateCommand();
                command.CommandText = "DELETE FROM ingest_keys WHERE received_day < @day; DELETE FROM event_keys WHERE received_day < @day";
                command.Parameters.AddWithValue("@day", receivedBeforeDay);
                command.ExecuteNonQuery();
                transaction.Commit();
                keys.ExceptWith(expired);
                return expired.Count;
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

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _keys) is not null)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            Keys(Connection());
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The idempotency keys still in their window, read from the store on first use (under the gate): the packed
    /// groups and the rows of the older per-key table. With them, what is pending from before a restart.
    /// </summary>
    private HashSet<UInt128> Keys(SqliteConnection connection)
    {
        if (_keys is { } loaded)
        {
            return loaded;
        }

        try
        {
            var keys = new HashSet<UInt128>();
            using (var sequence = connection.CreateCommand())
            {
                sequence.CommandText = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ingest_keys'), 0)";
                _seenThrough = (long)sequence.ExecuteScalar()!;
            }

            ReadKeys(connection, "SELECT keys FROM ingest_keys WHERE batch_id <= @after", _seenThrough, k => keys.Add(k));
            ReadKeys(connection, "SELECT idem_key FROM event_keys", null, k => keys.Add(k));
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COALESCE(SUM(event_count), 0), COALESCE(MAX(batch_id), 0) FROM ingest_pending";
            using (var reader = command.ExecuteReader())
            {
                reader.Read();
                Interlocked.Exchange(ref _unfolded, reader.GetInt64(0));
                _progress.PendingFromBefore(reader.GetInt64(1));
            }

            Volatile.Write(ref _keys, keys);
            return keys;
        }
        catch
        {
            ResetConnection();
            throw;
        }
    }

    /// <summary>
    /// Adds the keys of groups another writer committed on the same file since this one last looked (the service
    /// runs one writer per file; a second process, or a test's second store, must still not count twice). Runs
    /// inside a write transaction, so nothing can commit in between.
    /// </summary>
    private void CatchUp(SqliteConnection connection, HashSet<UInt128> keys)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ingest_keys'), 0)";
        var latest = (long)command.ExecuteScalar()!;
        if (latest > _seenThrough)
        {
            ReadKeys(connection, "SELECT keys FROM ingest_keys WHERE batch_id > @after", _seenThrough, k => keys.Add(k));
            _seenThrough = latest;
        }
    }

    private static void ReadKeys(SqliteConnection connection, string sql, long? parameter, Action<UInt128> add)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (parameter is { } value)
        {
            command.Parameters.AddWithValue(sql.Contains("@after", StringComparison.Ordinal) ? "@after" : "@day", value);
        }

        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var packed = (byte[])reader.GetValue(0);
            for (var i = 0; i + 16 <= packed.Length; i += 16)
            {
                add(System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(packed.AsSpan(i)));
            }
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
        _folding.Dispose();
    }

    private SqliteConnection Connection() => _connection ??= (SqliteConnection)db.OpenConnection();

    private void ResetConnection()
    {
        _upsertDaily.Reset();
        _upsertUsers.Reset();
        _upsertAccounts.Reset();
        _connection?.Dispose();
        _connection = null;
    }
}
