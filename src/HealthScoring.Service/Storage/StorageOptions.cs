namespace HealthScoring.Service.Storage;

internal enum StoreProvider
{
    Sqlite,
    SqlServer,
}

/// <summary><c>HealthScoring:Storage</c> (the connection string is <c>ConnectionStrings:HealthScoring</c>).</summary>
internal sealed class StorageOptions
{
    public const string Section = "HealthScoring:Storage";
    public const string DefaultSqliteConnectionString = "Data Source=data/healthscoring.db";

    public StoreProvider Provider { get; set; } = StoreProvider.Sqlite;

    public string ConnectionString { get; set; } = DefaultSqliteConnectionString;

    /// <summary>
    /// SQLite <c>PRAGMA synchronous</c> for the writer: <c>Full</c> (default) makes every acknowledged batch
    /// survive a power loss too; <c>Normal</c> survives a crash of the process only.
    /// </summary>
    public string SqliteSynchronous { get; set; } = "Full";

    /// <summary>How long a SQLite connection waits for the write lock before the call is retried (then refused).</summary>
    public TimeSpan SqliteBusyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>SQLite's page cache per connection, in MiB: memory grows toward pooled connections x this as the store grows.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 4096)]
    public int SqliteCacheMiB { get; set; } = 8;

    /// <summary>Where local files go (the generated admin key). Default: the SQLite file's folder, else <c>data</c>.</summary>
    public string? DataDirectory { get; set; }

    public string ResolveDataDirectory()
    {
        if (!string.IsNullOrEmpty(DataDirectory))
        {
            return DataDirectory;
        }

        if (Provider == StoreProvider.Sqlite)
        {
            var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource;
            var folder = Path.GetDirectoryName(file);
            return string.IsNullOrEmpty(folder) ? "." : folder;
        }

        return "data";
    }
}
