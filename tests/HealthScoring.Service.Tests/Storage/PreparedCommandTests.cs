using System.Data;
using Dapper;
using HealthScoring.Service.Storage;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>
/// The scorer's prepared statements (SQLite's own statement bound by index on SQLite, the provider's command
/// elsewhere): every value type the save binds round-trips, a name used twice takes one value, a declared name the
/// statement does not use is ignored, and a failed row leaves the statement usable for the next.
/// </summary>
public sealed class PreparedCommandTests
{
    [TestCase("Sqlite")]
    [TestCase("SqlServer")]
    public async Task Values_RoundTrip_AndAFailedRowLeavesTheStatementUsable(string providerName)
    {
        var provider = Enum.Parse<StoreProvider>(providerName);
        if (provider == StoreProvider.SqlServer && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TestStore.SqlServerVariable)))
        {
            Assert.Ignore($"{TestStore.SqlServerVariable} is not set: the SQL Server contract did not run.");
        }

        await using var store = await TestStore.CreateAsync(provider);
        await using var connection = await store.Db.OpenConnectionAsync();
        await connection.ExecuteAsync(provider == StoreProvider.Sqlite
            ? "CREATE TABLE prepared_test (id TEXT NOT NULL PRIMARY KEY, n INTEGER NULL, big INTEGER NULL, real_value REAL NULL, text_value TEXT NULL, data BLOB NULL, copy TEXT NULL, utf8 TEXT NULL)"
            : "CREATE TABLE prepared_test (id NVARCHAR(50) NOT NULL PRIMARY KEY, n INT NULL, big BIGINT NULL, real_value FLOAT NULL, text_value NVARCHAR(MAX) NULL, data VARBINARY(MAX) NULL, copy NVARCHAR(MAX) NULL, utf8 NVARCHAR(MAX) NULL)");

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var insert = PreparedCommand.Create(connection, transaction,
                "INSERT INTO prepared_test (id, n, big, real_value, text_value, data, copy, utf8) VALUES (@id, @n, @big, @real, @text, @data, @text, @utf8)",
                ("id", DbType.String), ("n", DbType.Int32), ("big", DbType.Int64), ("real", DbType.Double), ("text", DbType.String),
                ("data", DbType.Binary), ("unused", DbType.Int32), ("utf8", DbType.String));
            Assert.That(await insert.ExecuteAsync(CancellationToken.None, "a", 7, 1L << 40, 0.25, "héllo ✓", new byte[] { 0, 1, 255 }, 99, Utf8("{\"ü\":1}")), Is.EqualTo(1));
            Assert.That(await insert.ExecuteAsync(CancellationToken.None, "b", null, null, null, null, null, null, null), Is.EqualTo(1));
            var duplicate = Assert.CatchAsync(() => insert.ExecuteAsync(CancellationToken.None, "a", 1, 1L, 1.0, "x", Array.Empty<byte>(), 0, Utf8("x")));
            Assert.That(duplicate, Is.InstanceOf<System.Data.Common.DbException>(), "the primary key refuses a second 'a'");
            Assert.That(await insert.ExecuteAsync(CancellationToken.None, "c", -1, -2L, double.MaxValue, "", Array.Empty<byte>(), 0, Utf8("")), Is.EqualTo(1),
                "the statement runs again after a failed row");
            await transaction.CommitAsync();
        }

        var rows = (await connection.QueryAsync<(string Id, long? N, long? Big, double? Real, string? Text, byte[]? Data, string? Copy, string? Utf8)>(
            "SELECT id, n, big, real_value, text_value, data, copy, utf8 FROM prepared_test ORDER BY id")).ToList();
        Assert.That(rows, Is.EqualTo(new[]
        {
            ("a", (long?)7, (long?)(1L << 40), (double?)0.25, "héllo ✓", new byte[] { 0, 1, 255 }, "héllo ✓", "{\"ü\":1}"),
            ("b", null, null, null, null, null, null, null),
            ("c", -1, -2, double.MaxValue, "", Array.Empty<byte>(), "", ""),
        }));
    }

    private static PreparedCommand.Utf8Text Utf8(string text) => new(System.Text.Encoding.UTF8.GetBytes(text));

    [Test]
    public async Task Sqlite_RefusesUndeclaredParameters_SeveralStatements_WrongValueCounts_NaN_AndNoTransaction()
    {
        await using var store = await TestStore.CreateAsync(StoreProvider.Sqlite);
        await using var connection = (SqliteConnection)await store.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        Assert.Throws<ArgumentException>(() => PreparedCommand.Create(connection, transaction, "SELECT @a + @b", ("a", DbType.Int32)));
        Assert.Throws<ArgumentException>(() => PreparedCommand.Create(connection, transaction, "SELECT @a; SELECT 2", ("a", DbType.Int32)),
            "one statement only: a second would silently not run");
        await using var command = PreparedCommand.Create(connection, transaction, "SELECT @a", ("a", DbType.Double));
        Assert.ThrowsAsync<ArgumentException>(() => command.ExecuteAsync(CancellationToken.None, 1, 2));
        Assert.ThrowsAsync<ArgumentException>(() => command.ExecuteAsync(CancellationToken.None, double.NaN), "NaN is refused, as the provider does");
        await transaction.RollbackAsync();
        Assert.Throws<InvalidOperationException>(() => PreparedCommand.Create(connection, transaction, "SELECT @a", ("a", DbType.Int32)),
            "outside a transaction every row would commit on its own");
    }
}
