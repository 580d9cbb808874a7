using HealthScoring.Service.Storage;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Bench.Phases;

/// <summary>What a SQLite store holds after a phase: counted directly, not through the service.</summary>
/// <param name="EventKeys">Idempotency keys: packed in ingest_keys (16 bytes each) plus rows of the older event_keys.</param>
/// <param name="PendingEvents">Acknowledged events not yet folded into the aggregates.</param>
internal sealed record StoreCounts(long EventKeys, long AccountEvents, long DailyEvents, long PendingEvents);

internal static class StoreFiles
{
    /// <summary>
    /// Counts rows of the store and of its ingest journal (attached) with a private, unpooled connection; closing it
    /// checkpoints and removes the WALs. Pending: journal groups after the store's fold watermark.
    /// </summary>
    public static StoreCounts Count(string databasePath)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "ATTACH DATABASE @journal AS journal;" + """
            SELECT (SELECT COUNT(*) FROM event_keys) + (SELECT COALESCE(SUM(length(keys) / 16), 0) FROM journal.ingest_keys),
                   (SELECT COALESCE(SUM(event_count), 0) FROM accounts),
                   (SELECT COALESCE(SUM(event_count), 0) FROM usage_daily),
                   (SELECT COALESCE(SUM(event_count), 0) FROM journal.ingest_pending
                    WHERE batch_id > (SELECT through FROM ingest_folded))
            """;
        command.Parameters.AddWithValue("@journal", SqliteStoreDataSource.JournalPathFor(databasePath));
        using var reader = command.ExecuteReader();
        reader.Read();
        return new StoreCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>Acknowledged events not yet folded, read beside a running service (read-only, no checkpoint).</summary>
    public static long Pending(string databasePath)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Pooling = false,
            Mode = SqliteOpenMode.ReadOnly,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            ATTACH DATABASE @journal AS journal;
            SELECT COALESCE(SUM(event_count), 0) FROM journal.ingest_pending WHERE batch_id > (SELECT through FROM ingest_folded);
            """;
        command.Parameters.AddWithValue("@journal", SqliteStoreDataSource.JournalPathFor(databasePath));
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The database file and its ingest journal, plus their WALs if any are left.</summary>
    public static long Bytes(string databasePath) =>
        new[] { databasePath, databasePath + "-wal", SqliteStoreDataSource.JournalPathFor(databasePath), SqliteStoreDataSource.JournalPathFor(databasePath) + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);


    public static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException ex)
        {
            Progress.Say($"  could not delete {directory}: {ex.Message}");
        }
    }
}
