using Dapper;
using HealthScoring.Service.Health;
using HealthScoring.Service.Storage;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>
/// GET .../health reads through statements kept prepared on kept SQLite connections: they must see every new write
/// and must not hold a read snapshot between calls (that would stop WAL checkpoints and grow the WAL without bound).
/// </summary>
public sealed class PreparedReadTests
{
    [Test]
    public async Task StoredHealth_SeesNewWrites_ServesConcurrentReaders_AndHoldsNoSnapshot()
    {
        await using var store = await TestStore.CreateAsync(StoreProvider.Sqlite);
        var health = new HealthRepository(store.Db, new SqlDialect(StoreProvider.Sqlite));
        var now = DateTimeOffset.UtcNow;
        await using (var connection = await store.Db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "INSERT INTO accounts (account_id, created_at, updated_at, health_day, health_json) VALUES ('a', 0, 0, 7, '{\"v\":1}')");
        }

        var first = await health.StoredAsync("a", now, CancellationToken.None);
        await using (var connection = await store.Db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE accounts SET health_json = '{\"v\":2}', health_day = 8 WHERE account_id = 'a'");
        }

        var second = await health.StoredAsync("a", now, CancellationToken.None);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => health.StoredAsync("a", now, CancellationToken.None))));
        var missing = await health.StoredAsync("nobody", now, CancellationToken.None);

        // A checkpoint that must wait for every reader: it completes only if no kept connection holds a snapshot.
        await using var raw = new SqliteConnection(store.Options.ConnectionString + ";Pooling=False");
        await raw.OpenAsync();
        var (busy, _, _) = await raw.QuerySingleAsync<(long, long, long)>("PRAGMA wal_checkpoint(TRUNCATE)");

        Assert.Multiple(() =>
        {
            Assert.That((first?.Day, Text(first?.Json)), Is.EqualTo(((int?)7, "{\"v\":1}")));
            Assert.That((second?.Day, Text(second?.Json)), Is.EqualTo(((int?)8, "{\"v\":2}")), "a kept prepared statement sees the new row");
            Assert.That(concurrent.Select(c => Text(c?.Json)), Is.All.EqualTo("{\"v\":2}"));
            Assert.That(missing, Is.Null);
            Assert.That(busy, Is.Zero, "no kept connection holds a read snapshot");
        });
    }

    private static string? Text(byte[]? utf8) => utf8 is null ? null : System.Text.Encoding.UTF8.GetString(utf8);
}
