using HealthScoring.Service.Ingestion;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Bench.Scoring;

/// <summary>
/// Writes a synthetic book of business straight into the aggregate tables (SQL-generated, deterministic):
/// accounts acct-000000.. with 20 seats and <c>days</c> days of history; each account is active on about 60%
/// of the days, with three event names and two of its ten users per active day.
/// </summary>
internal static class ScoringData
{
    public static (long UsageRows, long UserRows) Generate(string databasePath, int accounts, int days, int today)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, accounts, days, today, """
            WITH RECURSIVE a(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM a WHERE n + 1 < @accounts),
                           d(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k + 1 < @days),
                           nm(name, i) AS (VALUES ('login', 0), ('report.viewed', 1), ('report.exported', 2))
            INSERT INTO usage_daily (account_id, day, event_name, event_count, quantity)
            SELECT printf('acct-%06d', a.n), @today - d.k, nm.name, 1 + ((a.n * 7 + d.k * 13 + nm.i) % 9), 1 + ((a.n + d.k) % 5)
            FROM a CROSS JOIN d CROSS JOIN nm
            WHERE ((a.n * 31 + d.k * 17) % 10) < 6
            ORDER BY 1, 2, 3
            """);
        Execute(connection, transaction, accounts, days, today, """
            WITH RECURSIVE a(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM a WHERE n + 1 < @accounts),
                           d(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k + 1 < @days),
                           u(j) AS (VALUES (0), (3))
            INSERT INTO active_users_daily (account_id, day, user_id, event_count)
            SELECT printf('acct-%06d', a.n), @today - d.k, 'user-' || ((a.n + d.k + u.j) % 10), 2
            FROM a CROSS JOIN d CROSS JOIN u
            WHERE ((a.n * 31 + d.k * 17) % 10) < 6
            ORDER BY 1, 2, 3
            """);
        Execute(connection, transaction, accounts, days, today, """
            INSERT INTO accounts (account_id, created_at, updated_at, first_event_at, last_event_at, event_count,
                                  quantity_total, seats_purchased, segment)
            SELECT account_id, 0, 0, MIN(day) * 86400000, MAX(day) * 86400000 + 3600000, SUM(event_count), SUM(quantity), 20,
                   CASE WHEN substr(account_id, -1) IN ('0', '1') THEN 'enterprise' ELSE 'smb' END
            FROM usage_daily GROUP BY account_id
            """);
        transaction.Commit();
        return (Count(connection, "usage_daily"), Count(connection, "active_users_daily"));
    }

    /// <summary>
    /// Every account scored through the day before <paramref name="day"/>, with 30 days of stored daily scores before
    /// it (what the risk rules and the trend deltas read) and no usage snapshots: the next pass on
    /// <paramref name="day"/> rescores every account for that day, reading all their rows.
    /// </summary>
    public static void PrepareFullRescore(string databasePath, int day) =>
        Run(databasePath, """
            UPDATE accounts SET health_day = @today - 1, usage_changed_from_day = NULL;
            DELETE FROM health_daily;
            DELETE FROM usage_snapshots;
            WITH RECURSIVE d(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM d WHERE k < 30)
            INSERT INTO health_daily (account_id, day, score, band, deployment, engagement, adoption, roi, scorecard_id, scorecard_version)
            SELECT a.account_id, @today - d.k, 40 + (abs(a.rowid * 7 + d.k) % 50), 'yellow', NULL, 55.5, 60.25, NULL, 'default', 1
            FROM accounts a CROSS JOIN d
            ORDER BY 1, 2;
            """, day);

    /// <summary>The first <paramref name="backfillAccounts"/> accounts never scored: the next rounds build their whole history.</summary>
    public static void PrepareBackfill(string databasePath, int today, int backfillAccounts) =>
        Run(databasePath, $"""
            UPDATE accounts SET health_day = @today, usage_changed_from_day = NULL;
            UPDATE accounts SET health_day = NULL WHERE account_id < printf('acct-%06d', {backfillAccounts});
            DELETE FROM usage_snapshots WHERE account_id < printf('acct-%06d', {backfillAccounts});
            DELETE FROM health_daily;
            """, today);

    public static long Count(string databasePath, string table)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        return Count(connection, table);
    }

    private static long Count(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }

    private static void Run(string databasePath, string sql, int today)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@today", today);
        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, int accounts, int days, int today, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 0;
        command.Parameters.AddWithValue("@accounts", accounts);
        command.Parameters.AddWithValue("@days", days);
        command.Parameters.AddWithValue("@today", today);
        command.ExecuteNonQuery();
    }

    public static int Today() => UtcDay.Of(DateTimeOffset.UtcNow);
}
