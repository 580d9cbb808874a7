using Dapper;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>Every connection of the SQLite store is opened with the configured pragmas.</summary>
public sealed class SqlitePragmaTests
{
    [TestCase("Full", 16, 64, 2L, 16L * 1024, 64L * 1024 * 1024)]
    [TestCase("Normal", 8, 0, 1L, 8L * 1024, 0L)]
    [TestCase("Full", 8, 5000, 2L, 8L * 1024, 2047L * 1024 * 1024)]
    public async Task Connections_CarryThePragmas(string synchronous, int cacheMiB, int mmapMiB, long expectedSynchronous, long expectedCacheKiB, long expectedMmap)
    {
        var file = Path.Combine(ServiceProcess.NewDataDirectory(), "pragmas.db");
        await using var db = new SqliteStoreDataSource($"Data Source={file}", synchronous, cacheMiB: cacheMiB, mmapMiB: mmapMiB);
        await using var connection = await db.OpenConnectionAsync();
        var (sync, cache, mmap) = (
            await connection.ExecuteScalarAsync<long>("PRAGMA synchronous"),
            await connection.ExecuteScalarAsync<long>("PRAGMA cache_size"),
            await connection.ExecuteScalarAsync<long>("PRAGMA mmap_size"));
        Assert.That((sync, cache, mmap), Is.EqualTo((expectedSynchronous, -expectedCacheKiB, expectedMmap)));
    }
}
