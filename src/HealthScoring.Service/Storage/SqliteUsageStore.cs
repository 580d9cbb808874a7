using Dapper;
using HealthScoring.Service.Ingestion;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Service.Storage;

/// <summary>
/// The SQLite ingest writer, in two steps over two files.
/// <list type="number">
/// <item>The acknowledgement commits, per group of batches, one row of packed idempotency keys and one row of encoded
/// events (<see cref="JournalCodec"/>) to the ingest journal (<see cref="SqliteStoreDataSource.JournalPath"/>). That
/// file has its own write lock, so acknowledgements never wait for a fold or a scoring save. The keys of the
/// idempotency window are held in memory, so deduplication costs no SQL.</item>
/// <item><see cref="FoldAsync"/> adds pending groups to the aggregates scoring reads (<c>usage_daily</c>,
/// <c>active_users_daily</c>, <c>accounts</c>) in large sets, and moves the store's watermark
/// (<c>ingest_folded.through</c>, migration 0008) in the same transaction. Groups up to the watermark are counted,
/// later ones are not: after a crash at any point, whatever was not folded still is, and nothing twice.</item>
/// </list>
/// One connection writes each file; the bulk statements bind by position (see <see cref="SqliteBulkStatement"/>).
/// </summary>
internal sealed partial class SqliteUsageStore(SqliteStoreDataSource db, ILogger<SqliteUsageStore>? logger = null) : IUsageStore, IStoreSeed, IDisposable
{
    private const string JournalSchema = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE IF NOT EXISTS ingest_keys (
          batch_id INTEGER PRIMARY KEY AUTOINCREMENT,
          received_day INTEGER NOT NULL,
          keys BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS ix_ingest_keys_received_day ON ingest_keys (received_day);
        CREATE TABLE IF NOT EXISTS ingest_pending (
          batch_id INTEGER PRIMARY KEY,
          received_at INTEGER NOT NULL,
          event_count INTEGER NOT NULL,
          events BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS ingest_quarantine (
          batch_id INTEGER PRIMARY KEY,
          received_at INTEGER NOT NULL,
          event_count INTEGER NOT NULL,
          events BLOB NOT NULL);
        """;

    // _acking: the journal's write connection. _folding: the store's write connection, one fold at a time.
    private readonly SemaphoreSlim _acking = new(1, 1);
    private readonly SemaphoreSlim _folding = new(1, 1);
    private readonly FoldProgress _progress = new();
    private SqliteConnection? _journal;
    private SqliteConnection? _store;
    private KeySet? _keys;
    private long _seenThrough;
    private long _foldedThrough;
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
        await LoadAsync(cancellationToken);
        await _acking.WaitAsync(cancellationToken);
        try
        {
            var keys = _keys!;
            var journal = Journal();
            var accepted = new List<UsageEvent>();
            BatchOutcome[] outcomes;
            long batchId;
            try
            {
                using var transaction = journal.BeginTransaction(deferred: false);

                // Holding the journal's write lock: first take in the keys any other writer on it committed since.
                CatchUp(journal, keys);

                // Each new key goes into the set as it is claimed (a later copy finds it there: a duplicate); if the
                // group is not committed, the catch below takes them out again. The room is made first, so claiming
                // cannot fail halfway (and leave keys behind that the catch does not know of).
                keys.EnsureCapacity(keys.Count + group.EventCount);
                accepted = group.Accept(key => keys.Add(key.Value), out outcomes);
                if (accepted.Count == 0)
                {
                    return outcomes;
                }

                var packed = new byte[accepted.Count * 16];
                for (var i = 0; i < accepted.Count; i++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(packed.AsSpan(i * 16), accepted[i].Key.Value);
                }

                batchId = journal.ExecuteScalar<long>(
                    "INSERT INTO ingest_keys (received_day, keys) VALUES (@receivedDay, @packed) RETURNING batch_id", new { receivedDay, packed });
                journal.Execute(
                    "INSERT INTO ingest_pending (batch_id, received_at, event_count, events) VALUES (@batchId, @receivedAtMs, @count, @events)",
                    new { batchId, receivedAtMs, count = accepted.Count, events = JournalCodec.Encode(accepted) });

                transaction.Commit();
            }
            catch
            {
                // Not committed: its keys are forgotten, so a retry counts them (removing never allocates, cannot fail).
                foreach (var e in accepted)
                {
                    keys.Remove(e.Key.Value);
                }

                ResetJournal();
                throw;
            }

            _seenThrough = batchId;
            Interlocked.Add(ref _unfolded, accepted.Count);
            _progress.Accepted(batchId, accepted);
            return outcomes;
        }
        finally
        {
            _acking.Release();
        }
    }

    public long UnfoldedEvents => Interlocked.Read(ref _unfolded);

    public async Task<int> FoldAsync(int maxEvents, CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        await _folding.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                // The oldest pending groups after the watermark. Every group committed after this read has a higher id.
                var rows = new List<(long Id, long ReceivedAt, byte[] Events)>();
                var events = 0;
                using (var read = db.OpenJournalConnection())
                using (var command = read.CreateCommand())
                {
                    command.CommandText = "SELECT batch_id, received_at, event_count, events FROM ingest_pending WHERE batch_id > @after ORDER BY batch_id";
                    command.Parameters.AddWithValue("@after", _foldedThrough);
                    using var reader = command.ExecuteReader();
                    while (events < maxEvents && reader.Read())
                    {
                        rows.Add((reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(3)));
                        events += reader.GetInt32(2);
                    }
                }

                if (rows.Count == 0)
                {
                    // Nothing after the watermark (another process may have folded ours): the count and the waiters agree.
                    await ForgetFoldedAsync(cancellationToken);
                    _progress.Folded(_foldedThrough);
                    return 0;
                }

                var delta = new UsageDelta();
                var unreadable = -1;
                InvalidDataException? damage = null;
                for (var i = 0; i < rows.Count && damage is null; i++)
                {
                    try
                    {
                        JournalCodec.DecodeInto(rows[i].Events, delta);
                    }
                    catch (InvalidDataException ex)
                    {
                        (unreadable, damage) = (i, ex);
                    }
                }

                if (damage is not null)
                {
                    await QuarantineAsync(rows[unreadable].Id, damage, cancellationToken);
                    continue; // the delta holds part of the damaged group: start over without it
                }

                var daily = Sorted(delta.Daily, d => (d.Key.Account, d.Key.Day, d.Key.Name));
                var users = Sorted(delta.Users, u => (u.Key.Account, u.Key.Day, u.Key.User));
                var accounts = delta.Accounts.OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
                var through = rows[^1].Id;
                var store = Store();
                try
                {
                    using var transaction = store.BeginTransaction(deferred: false);
                    var watermark = Watermark(store);
                    if (watermark != _foldedThrough)
                    {
                        // Another process folded meanwhile (one writer per file is the rule, but never count twice).
                        transaction.Rollback();
                        _foldedThrough = watermark;
                        continue;
                    }

                    Upsert(store, daily, users, accounts, rows.Max(r => r.ReceivedAt));
                    store.Execute("UPDATE ingest_folded SET through = @through WHERE id = 1", new { through });
                    transaction.Commit();
                }
                catch
                {
                    ResetStore();
                    throw;
                }

                _foldedThrough = through;
                await ForgetFoldedAsync(cancellationToken);
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

    /// <summary>
    /// Moves a journal group that cannot be decoded (a damaged file) to <c>ingest_quarantine</c>, so the groups after
    /// it are still folded; its events stay there, uncounted, for an operator to look at (a critical log entry).
    /// </summary>
    private async Task QuarantineAsync(long batchId, InvalidDataException damage, CancellationToken cancellationToken)
    {
        await _acking.WaitAsync(cancellationToken);
        try
        {
            var journal = Journal();
            using var transaction = journal.BeginTransaction(deferred: false);
            journal.Execute("""
                INSERT INTO ingest_quarantine (batch_id, received_at, event_count, events)
                  SELECT batch_id, received_at, event_count, events FROM ingest_pending WHERE batch_id = @batchId;
                DELETE FROM ingest_pending WHERE batch_id = @batchId;
                """, new { batchId });
            transaction.Commit();
        }
        catch
        {
            ResetJournal();
            throw;
        }
        finally
        {
            _acking.Release();
        }

        if (logger is not null)
        {
            LogQuarantined(logger, damage, batchId, db.JournalPath);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Journal group {BatchId} cannot be decoded and was moved to ingest_quarantine in {Journal}: its acknowledged events are NOT counted; the groups after it are")]
    private static partial void LogQuarantined(ILogger logger, Exception exception, long batchId, string journal);

    /// <summary>
    /// Drops the journal's event rows up to the watermark and recounts what is left. Counted already, so this may
    /// fail or be cut short by a crash: those rows are skipped (and dropped) later.
    /// </summary>
    private async Task ForgetFoldedAsync(CancellationToken cancellationToken)
    {
        await _acking.WaitAsync(cancellationToken);
        try
        {
            Interlocked.Exchange(ref _unfolded, Journal().ExecuteScalar<long>("""
                DELETE FROM ingest_pending WHERE batch_id <= @through;
                SELECT COALESCE(SUM(event_count), 0) FROM ingest_pending WHERE batch_id > @through;
                """, new { through = _foldedThrough }));
        }
        catch (SqliteException)
        {
            ResetJournal();
        }
        finally
        {
            _acking.Release();
        }
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
        await LoadAsync(cancellationToken);
        var expired = new List<UInt128>();
        await _acking.WaitAsync(cancellationToken);
        try
        {
            try
            {
                DeleteExpired(Journal(), "ingest_keys", "keys", receivedBeforeDay, expired);
            }
            catch
            {
                ResetJournal();
                throw;
            }

            Forget(expired);
        }
        finally
        {
            _acking.Release();
        }

        // Keys of the store's older per-key table (before the journal): its write lock may be held by a fold or a
        // scoring save, so the acknowledgements are not kept waiting for it.
        var legacy = new List<UInt128>();
        using (var store = (SqliteConnection)db.OpenConnection())
        {
            DeleteExpired(store, "event_keys", "idem_key", receivedBeforeDay, legacy);
        }

        if (legacy.Count > 0)
        {
            await _acking.WaitAsync(cancellationToken);
            try
            {
                Forget(legacy);
            }
            finally
            {
                _acking.Release();
            }
        }

        return expired.Count + legacy.Count;
    }

    /// <summary>Deletes the key rows received before the day, in one transaction, collecting their keys.</summary>
    private static void DeleteExpired(SqliteConnection connection, string table, string keyColumn, int receivedBeforeDay, List<UInt128> expired)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        ReadKeys(connection, $"SELECT {keyColumn} FROM {table} WHERE received_day < @p", receivedBeforeDay, expired.Add);
        connection.Execute($"DELETE FROM {table} WHERE received_day < @receivedBeforeDay", new { receivedBeforeDay });
        transaction.Commit();
    }

    private void Forget(List<UInt128> expired)
    {
        foreach (var key in expired)
        {
            _keys!.Remove(key);
        }
    }

    /// <summary>Loads the journal before the service reports ready (run by the StoreInitializer after the migrations).</summary>
    public Task EnsureAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    /// <summary>
    /// At start (<see cref="EnsureAsync"/>), or on first use: the journal's schema, the idempotency keys still in their window (packed in the journal, and
    /// rows of the store's older per-key table), the fold watermark, and what is pending from before a restart.
    /// </summary>
    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _keys) is not null)
        {
            return;
        }

        await _acking.WaitAsync(cancellationToken);
        try
        {
            if (_keys is not null)
            {
                return;
            }

            var journal = Journal();
            try
            {
                long watermark;
                var keys = new KeySet();
                using (var store = (SqliteConnection)db.OpenConnection())
                {
                    watermark = Watermark(store);
                    keys.EnsureCapacity(checked((int)(store.ExecuteScalar<long>("SELECT COUNT(*) FROM event_keys")
                        + journal.ExecuteScalar<long>("SELECT COALESCE(SUM(length(keys)), 0) / 16 FROM ingest_keys"))));
                    ReadKeys(store, "SELECT idem_key FROM event_keys", null, k => keys.Add(k));
                }

                _seenThrough = Sequence(journal);
                if (_seenThrough < watermark)
                {
                    // New groups would get ids the store counts as folded already: they would never be counted.
                    throw new InvalidOperationException(
                        $"The ingest journal {db.JournalPath} does not belong with the store {db.FilePath}: its last group id {_seenThrough} is below " +
                        $"the store's fold watermark {watermark}, so it was replaced, deleted or restored apart from the store. Stop the service " +
                        "and restore the two files together (they are backed up as a pair).");
                }

                ReadKeys(journal, "SELECT keys FROM ingest_keys WHERE batch_id <= @p", _seenThrough, k => keys.Add(k));
                var (pending, lastPending) = journal.QuerySingle<(long, long)>("""
                    DELETE FROM ingest_pending WHERE batch_id <= @watermark;
                    SELECT COALESCE(SUM(event_count), 0), COALESCE(MAX(batch_id), 0) FROM ingest_pending;
                    """, new { watermark });
                _foldedThrough = watermark;
                Interlocked.Exchange(ref _unfolded, pending);
                _progress.PendingFromBefore(lastPending);

                Volatile.Write(ref _keys, keys); // published last: the other entry points check it without the lock
            }
            catch
            {
                ResetJournal();
                throw;
            }
        }
        finally
        {
            _acking.Release();
        }
    }

    /// <summary>
    /// Adds the keys of groups another writer committed to the journal since this one last looked (the service runs
    /// one writer per file; a second process, or a test's second store, must still not count twice). Runs inside a
    /// write transaction, so nothing can commit in between.
    /// </summary>
    private void CatchUp(SqliteConnection journal, KeySet keys)
    {
        var latest = Sequence(journal);
        if (latest > _seenThrough)
        {
            ReadKeys(journal, "SELECT keys FROM ingest_keys WHERE batch_id > @p", _seenThrough, k => keys.Add(k));
            _seenThrough = latest;
        }
    }

    /// <summary>The highest group id ever given out (AUTOINCREMENT: ids are never reused, even after a purge).</summary>
    private static long Sequence(SqliteConnection journal) =>
        journal.ExecuteScalar<long>("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ingest_keys'), 0)");

    private static long Watermark(SqliteConnection store) => store.ExecuteScalar<long>("SELECT through FROM ingest_folded WHERE id = 1");

    private static void ReadKeys(SqliteConnection connection, string sql, long? parameter, Action<UInt128> add)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (parameter is { } value)
        {
            command.Parameters.AddWithValue("@p", value);
        }

        // Through one rented buffer: a group's keys are up to hundreds of KB, and a start reads millions of keys.
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var length = (int)reader.GetBytes(0, 0, null, 0, 0);
                if (length > buffer.Length)
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
                }

                reader.GetBytes(0, 0, buffer, 0, length);
                for (var i = 0; i + 16 <= length; i += 16)
                {
                    add(System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(buffer.AsSpan(i)));
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
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
        ResetJournal();
        ResetStore();
        _acking.Dispose();
        _folding.Dispose();
    }

    private SqliteConnection Journal()
    {
        if (_journal is null)
        {
            var journal = db.OpenJournalConnection();
            journal.Execute(JournalSchema);
            _journal = journal;
        }

        return _journal;
    }

    private SqliteConnection Store() => _store ??= (SqliteConnection)db.OpenConnection();

    private void ResetJournal()
    {
        _journal?.Dispose();
        _journal = null;
    }

    private void ResetStore()
    {
        _upsertDaily.Reset();
        _upsertUsers.Reset();
        _upsertAccounts.Reset();
        _store?.Dispose();
        _store = null;
    }
}
