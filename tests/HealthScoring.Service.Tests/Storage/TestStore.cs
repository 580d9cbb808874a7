using System.Data.Common;
using Dapper;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;
using Microsoft.Data.SqlClient;
using Microsoft.Extensions.Logging.Abstractions;

using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>
/// A fresh, migrated store of one provider: a new SQLite file, or a new database on the SQL Server named by
/// <c>HEALTHSCORING_TEST_SQLSERVER</c> (dropped afterwards).
/// </summary>
internal sealed class TestStore : IAsyncDisposable
{
    public const string SqlServerVariable = "HEALTHSCORING_TEST_SQLSERVER";

    private readonly Func<Task> _cleanup;

    private TestStore(StoreProvider provider, DbDataSource db, StorageOptions options, Func<IUsageStore> newUsageStore, Func<Task> cleanup)
    {
        Provider = provider;
        Db = db;
        Options = options;
        NewUsageStore = newUsageStore;
        _cleanup = cleanup;
    }

    public StoreProvider Provider { get; }

    public DbDataSource Db { get; }

    public StorageOptions Options { get; }

    /// <summary>A new writer on the same store (two of them race like two replicas).</summary>
    public Func<IUsageStore> NewUsageStore { get; }

    public MigrationRunner Migrations() => new(Db, Options, NullLogger<MigrationRunner>.Instance);

    public static async Task<TestStore> CreateAsync(StoreProvider provider)
    {
        TestStore store;
        if (provider == StoreProvider.Sqlite)
        {
            var file = Path.Combine(ServiceProcess.NewDataDirectory(), "contract.db");
            var options = new StorageOptions { Provider = provider, ConnectionString = $"Data Source={file}" };
            var db = new SqliteStoreDataSource(options.ConnectionString, "Full");
            store = new TestStore(provider, db, options, () => new SqliteUsageStore(db), async () =>
            {
                await db.DisposeAsync(); // closes the connections kept for prepared reads
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            });
        }
        else
        {
            var server = Environment.GetEnvironmentVariable(SqlServerVariable)!;
            var name = "healthscoring_test_" + Guid.NewGuid().ToString("N")[..12];
            await ExecuteOnMasterAsync(server, $"CREATE DATABASE [{name}]");
            var connectionString = new SqlConnectionStringBuilder(server) { InitialCatalog = name }.ConnectionString;
            var options = new StorageOptions { Provider = provider, ConnectionString = connectionString };
            var db = new SqlServerStoreDataSource(connectionString);
            store = new TestStore(provider, db, options, () => new SqlServerUsageStore(db), async () =>
            {
                SqlConnection.ClearAllPools();
                await ExecuteOnMasterAsync(server, $"ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{name}]");
            });
        }

        await store.Migrations().RunAsync(CancellationToken.None);
        return store;
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await Db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    public async ValueTask DisposeAsync() => await _cleanup();

    private static async Task ExecuteOnMasterAsync(string server, string sql)
    {
        await using var connection = new SqlConnection(new SqlConnectionStringBuilder(server) { InitialCatalog = "master" }.ConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(sql);
    }
}
