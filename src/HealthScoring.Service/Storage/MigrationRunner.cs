using System.Data.Common;
using System.Reflection;
using System.Text.RegularExpressions;
using Dapper;

namespace HealthScoring.Service.Storage;

/// <summary>
/// Applies the embedded, name-ordered <c>Migrations/{Provider}/*.sql</c> scripts not yet in the
/// <c>schema_migrations</c> journal, each in its own transaction with its journal row. On SQL Server an
/// application lock keeps two replicas starting together from racing.
/// </summary>
internal sealed partial class MigrationRunner(DbDataSource db, StorageOptions options, ILogger<MigrationRunner> logger)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (options.Provider == StoreProvider.SqlServer)
        {
            await EnsureSqlServerDatabaseAsync(cancellationToken);
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var sqlServer = options.Provider == StoreProvider.SqlServer;
        if (sqlServer)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "EXEC sp_getapplock @Resource = 'healthscoring-migrations', @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = 60000;",
                cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "IF OBJECT_ID('schema_migrations') IS NULL CREATE TABLE schema_migrations (id NVARCHAR(200) NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL);",
                cancellationToken: cancellationToken));
        }
        else
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL);",
                cancellationToken: cancellationToken));
        }

        var applied = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM schema_migrations", cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
        var count = 0;
        foreach (var (id, script) in Scripts(options.Provider))
        {
            if (applied.Contains(id))
            {
                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var statement in sqlServer ? GoSeparator().Split(script) : [script])
            {
                if (!string.IsNullOrWhiteSpace(statement))
                {
                    await connection.ExecuteAsync(new CommandDefinition(statement, transaction: transaction, cancellationToken: cancellationToken));
                }
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO schema_migrations (id, applied_at) VALUES (@id, @at)",
                new { id, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            LogApplied(logger, id);
            count++;
        }

        if (sqlServer)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "EXEC sp_releaseapplock @Resource = 'healthscoring-migrations', @LockOwner = 'Session';", cancellationToken: cancellationToken));
        }

        return count;
    }

    /// <summary>Creates the configured database when it does not exist yet (needs CREATE DATABASE permission).</summary>
    private async Task EnsureSqlServerDatabaseAsync(CancellationToken cancellationToken)
    {
        var target = new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(options.ConnectionString);
        if (string.IsNullOrEmpty(target.InitialCatalog))
        {
            return;
        }

        var master = new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(options.ConnectionString) { InitialCatalog = "master" };
        await using var connection = new Microsoft.Data.SqlClient.SqlConnection(master.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var name = target.InitialCatalog.Replace("]", "]]", StringComparison.Ordinal);
        await connection.ExecuteAsync(new CommandDefinition(
            $"IF DB_ID(@database) IS NULL CREATE DATABASE [{name}]", new { database = target.InitialCatalog }, cancellationToken: cancellationToken));
    }

    /// <summary>The provider's scripts, ordered by file name (<c>0001_initial.sql</c>, ...).</summary>
    public static IEnumerable<(string Id, string Script)> Scripts(StoreProvider provider)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var prefix = $"{typeof(MigrationRunner).Namespace}.Migrations.{provider}.";
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name[prefix.Length..], reader.ReadToEnd());
        }
    }

    [GeneratedRegex(@"^\s*GO\s*$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex GoSeparator();

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema migration {Migration}")]
    private static partial void LogApplied(ILogger logger, string migration);
}
