using System.Data.Common;
using Dapper;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Health;

/// <summary>
/// One scorer at a time across replicas: on SQL Server a session application lock, taken without waiting for a pass
/// and held on its own connection until the pass ends (a replica that dies releases it with its session). SQLite is
/// single-node: there the lease is always granted.
/// </summary>
internal sealed class ScorerLease(DbDataSource db, SqlDialect dialect)
{
    public const string Acquire =
        "DECLARE @result INT; EXEC @result = sp_getapplock @Resource = 'healthscoring-scorer', @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = 0; SELECT @result;";

    public const string Release = "EXEC sp_releaseapplock @Resource = 'healthscoring-scorer', @LockOwner = 'Session';";

    /// <summary>The lease (dispose to release), or null when another replica is scoring.</summary>
    public async Task<IAsyncDisposable?> TryAcquireAsync(CancellationToken cancellationToken)
    {
        if (dialect.Provider != StoreProvider.SqlServer)
        {
            return Granted.Instance;
        }

        var connection = await db.OpenConnectionAsync(cancellationToken);
        if (await connection.ExecuteScalarAsync<int>(new CommandDefinition(Acquire, cancellationToken: cancellationToken)) >= 0)
        {
            return new Held(connection);
        }

        await connection.DisposeAsync();
        return null;
    }

    private sealed class Granted : IAsyncDisposable
    {
        public static readonly Granted Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Held(DbConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await connection.ExecuteAsync(Release);
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}
