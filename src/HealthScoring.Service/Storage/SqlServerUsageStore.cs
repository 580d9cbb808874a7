using System.Data;
using HealthScoring.Service.Ingestion;
using Microsoft.Data.SqlClient;

namespace HealthScoring.Service.Storage;

/// <summary>
/// The SQL Server ingest writer: each group of batches is bulk-copied into session temp tables and merged
/// set-wise in one transaction. Lock hints (UPDLOCK + HOLDLOCK/SERIALIZABLE) make insert-if-absent and
/// add-to-existing free of races between replicas without MERGE; rows are sorted so that concurrent
/// writers take locks in the same order. No parameter lists, so the 2,100-parameter limit never applies.
/// </summary>
internal sealed class SqlServerUsageStore(SqlServerStoreDataSource db) : IUsageStore
{
    internal const string CreateStaging = """
        CREATE TABLE #keys (idem_key BINARY(16) NOT NULL PRIMARY KEY);
        CREATE TABLE #daily (account_id NVARCHAR(128) NOT NULL, day INT NOT NULL, event_name NVARCHAR(100) NOT NULL,
                             event_count BIGINT NOT NULL, quantity FLOAT NOT NULL, PRIMARY KEY (account_id, day, event_name));
        CREATE TABLE #users (account_id NVARCHAR(128) NOT NULL, day INT NOT NULL, user_id NVARCHAR(128) NOT NULL,
                             event_count BIGINT NOT NULL, PRIMARY KEY (account_id, day, user_id));
        CREATE TABLE #accounts (account_id NVARCHAR(128) NOT NULL PRIMARY KEY, first_event_at BIGINT NOT NULL,
                                last_event_at BIGINT NOT NULL, event_count BIGINT NOT NULL, quantity FLOAT NOT NULL,
                                first_day INT NOT NULL);
        """;

    internal const string InsertKeys = """
        INSERT INTO event_keys (idem_key, received_day)
        OUTPUT inserted.idem_key
        SELECT k.idem_key, @day FROM #keys k
        WHERE NOT EXISTS (SELECT 1 FROM event_keys e WITH (UPDLOCK, HOLDLOCK) WHERE e.idem_key = k.idem_key);
        """;

    internal const string MergeAggregates = """
        UPDATE d SET d.event_count = d.event_count + s.event_count, d.quantity = d.quantity + s.quantity
        FROM usage_daily d WITH (UPDLOCK, SERIALIZABLE)
        JOIN #daily s ON s.account_id = d.account_id AND s.day = d.day AND s.event_name = d.event_name;
        INSERT INTO usage_daily (account_id, day, event_name, event_count, quantity)
        SELECT s.account_id, s.day, s.event_name, s.event_count, s.quantity FROM #daily s
        WHERE NOT EXISTS (SELECT 1 FROM usage_daily d WITH (UPDLOCK, SERIALIZABLE)
                          WHERE d.account_id = s.account_id AND d.day = s.day AND d.event_name = s.event_name);

        UPDATE u SET u.event_count = u.event_count + s.event_count
        FROM active_users_daily u WITH (UPDLOCK, SERIALIZABLE)
        JOIN #users s ON s.account_id = u.account_id AND s.day = u.day AND s.user_id = u.user_id;
        INSERT INTO active_users_daily (account_id, day, user_id, event_count)
        SELECT s.account_id, s.day, s.user_id, s.event_count FROM #users s
        WHERE NOT EXISTS (SELECT 1 FROM active_users_daily u WITH (UPDLOCK, SERIALIZABLE)
                          WHERE u.account_id = s.account_id AND u.day = s.day AND u.user_id = s.user_id);

        UPDATE a SET
          a.updated_at = @now,
          a.first_event_at = CASE WHEN a.first_event_at IS NULL OR s.first_event_at < a.first_event_at THEN s.first_event_at ELSE a.first_event_at END,
          a.last_event_at = CASE WHEN a.last_event_at IS NULL OR s.last_event_at > a.last_event_at THEN s.last_event_at ELSE a.last_event_at END,
          a.event_count = a.event_count + s.event_count,
          a.quantity_total = a.quantity_total + s.quantity,
          a.dirty_version = a.dirty_version + 1,
          a.usage_changed_from_day = CASE WHEN a.usage_changed_from_day IS NULL OR s.first_day < a.usage_changed_from_day
                                          THEN s.first_day ELSE a.usage_changed_from_day END
        FROM accounts a WITH (UPDLOCK, SERIALIZABLE)
        JOIN #accounts s ON s.account_id = a.account_id;
        INSERT INTO accounts (account_id, created_at, updated_at, first_event_at, last_event_at, event_count, quantity_total, usage_changed_from_day)
        SELECT s.account_id, @now, @now, s.first_event_at, s.last_event_at, s.event_count, s.quantity, s.first_day FROM #accounts s
        WHERE NOT EXISTS (SELECT 1 FROM accounts a WITH (UPDLOCK, SERIALIZABLE) WHERE a.account_id = s.account_id);

        DROP TABLE #keys; DROP TABLE #daily; DROP TABLE #users; DROP TABLE #accounts;
        """;

    internal const string PurgeSlice = "DELETE TOP (5000) FROM event_keys WHERE received_day < @day";

    public async Task<BatchOutcome[]> WriteAsync(IngestGroup group, int receivedDay, long receivedAtMs, CancellationToken cancellationToken)
    {
        await using var connection = (SqlConnection)await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, CreateStaging, cancellationToken);

        var keys = new DataTable();
        keys.Columns.Add("idem_key", typeof(byte[]));
        foreach (var key in group.CandidateKeys().OrderBy(k => k.Value))
        {
            keys.Rows.Add(key.ToBytes());
        }

        await BulkCopyAsync(connection, transaction, "#keys", keys, cancellationToken);
        var fresh = new HashSet<IdempotencyKey>();
        await using (var command = new SqlCommand(InsertKeys, connection, transaction))
        {
            command.Parameters.AddWithValue("@day", receivedDay);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                fresh.Add(IdempotencyKey.FromBytes((byte[])reader[0]));
            }
        }

        var delta = group.Resolve(fresh, out var outcomes);
        await BulkCopyAsync(connection, transaction, "#daily", DailyTable(delta), cancellationToken);
        await BulkCopyAsync(connection, transaction, "#users", UsersTable(delta), cancellationToken);
        await BulkCopyAsync(connection, transaction, "#accounts", AccountsTable(delta), cancellationToken);
        await using (var command = new SqlCommand(MergeAggregates, connection, transaction))
        {
            command.Parameters.AddWithValue("@now", receivedAtMs);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return outcomes;
    }

    public async Task<int> PurgeKeysAsync(int receivedBeforeDay, CancellationToken cancellationToken)
    {
        // In slices, so a large purge never holds long locks or bloats the log.
        await using var connection = (SqlConnection)await db.OpenConnectionAsync(cancellationToken);
        var total = 0;
        while (true)
        {
            await using var command = new SqlCommand(PurgeSlice, connection);
            command.Parameters.AddWithValue("@day", receivedBeforeDay);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
            if (deleted < 5000)
            {
                return total;
            }
        }
    }

    private static async Task ExecuteAsync(SqlConnection connection, SqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task BulkCopyAsync(SqlConnection connection, SqlTransaction transaction, string table, DataTable rows, CancellationToken cancellationToken)
    {
        if (rows.Rows.Count == 0)
        {
            return;
        }

        using var copy = new SqlBulkCopy(connection, SqlBulkCopyOptions.Default, transaction) { DestinationTableName = table };
        foreach (DataColumn column in rows.Columns)
        {
            copy.ColumnMappings.Add(column.ColumnName, column.ColumnName);
        }

        await copy.WriteToServerAsync(rows, cancellationToken);
    }

    private static DataTable DailyTable(UsageDelta delta)
    {
        var table = new DataTable();
        table.Columns.Add("account_id", typeof(string));
        table.Columns.Add("day", typeof(int));
        table.Columns.Add("event_name", typeof(string));
        table.Columns.Add("event_count", typeof(long));
        table.Columns.Add("quantity", typeof(double));
        foreach (var (key, value) in delta.Daily.OrderBy(d => d.Key))
        {
            table.Rows.Add(key.Account, key.Day, key.Name, value.Count, value.Quantity);
        }

        return table;
    }

    private static DataTable UsersTable(UsageDelta delta)
    {
        var table = new DataTable();
        table.Columns.Add("account_id", typeof(string));
        table.Columns.Add("day", typeof(int));
        table.Columns.Add("user_id", typeof(string));
        table.Columns.Add("event_count", typeof(long));
        foreach (var (key, count) in delta.Users.OrderBy(u => u.Key))
        {
            table.Rows.Add(key.Account, key.Day, key.User, count);
        }

        return table;
    }

    private static DataTable AccountsTable(UsageDelta delta)
    {
        var table = new DataTable();
        table.Columns.Add("account_id", typeof(string));
        table.Columns.Add("first_event_at", typeof(long));
        table.Columns.Add("last_event_at", typeof(long));
        table.Columns.Add("event_count", typeof(long));
        table.Columns.Add("quantity", typeof(double));
        table.Columns.Add("first_day", typeof(int));
        foreach (var (account, a) in delta.Accounts.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            table.Rows.Add(account, a.FirstAt, a.LastAt, a.Count, a.Quantity, a.FirstDay);
        }

        return table;
    }
}
