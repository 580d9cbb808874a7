using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace HealthScoring.Bench.Phases;

/// <summary>A fresh SQLite store for an in-process benchmark: the service's migrations and, if asked, its default scorecard.</summary>
internal static class BenchStore
{
    public static async Task<SqliteStoreDataSource> CreateAsync(string databasePath, bool withDefaultScorecard, CancellationToken cancellationToken)
    {
        var options = new StorageOptions { ConnectionString = $"Data Source={databasePath}" };
        var db = new SqliteStoreDataSource(options.ConnectionString, "Full", cacheMiB: options.SqliteCacheMiB, mmapMiB: options.SqliteMmapMiB);
        await new MigrationRunner(db, options, NullLogger<MigrationRunner>.Instance).RunAsync(cancellationToken);
        if (withDefaultScorecard)
        {
            await new ScorecardRepository(db, new SqlDialect(StoreProvider.Sqlite), TimeProvider.System).EnsureAsync(cancellationToken);
        }

        return db;
    }
}
