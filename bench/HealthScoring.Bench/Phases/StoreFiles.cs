using Microsoft.Data.Sqlite;

namespace HealthScoring.Bench.Phases;

/// <summary>What a SQLite store holds after a phase: counted directly, not through the service.</summary>
internal sealed record StoreCounts(long EventKeys, long AccountEvents, long DailyEvents);

internal static class StoreFiles
{
    /// <summary>Counts rows with a private, unpooled connection; closing it checkpoints and removes the WAL.</summary>
    public static StoreCounts Count(string databasePath)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT COUNT(*) FROM event_keys),
                   (SELECT COALESCE(SUM(event_count), 0) FROM accounts),
                   (SELECT COALESCE(SUM(event_count), 0) FROM usage_daily)
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return new StoreCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>The database file plus its WAL, if one is left.</summary>
    public static long Bytes(string databasePath) =>
        new[] { databasePath, databasePath + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);

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
