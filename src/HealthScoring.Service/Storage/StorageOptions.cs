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

    public const int DefaultSqliteMmapMiB = 2047;

    /// <summary>
    /// How much of the SQLite file is read through a memory map (<c>PRAGMA mmap_size</c>, in MiB; 0 turns it off): pages are
    /// read in place from the OS cache instead of copied by a read call each (the day rollover's full rescore used about a
    /// tenth less CPU). SQLite caps it at just under 2 GiB; a larger file reads the rest as before.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 2047)]
    public int SqliteMmapMiB { get; set; } = DefaultSqliteMmapMiB;

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
