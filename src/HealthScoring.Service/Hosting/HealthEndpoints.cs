using System.Data.Common;
using Dapper;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Hosting;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (the store is migrated and reachable): no key needed.</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" })).AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/readyz", async (StoreProbe probe, CancellationToken cancellationToken) =>
            await probe.CheckAsync(cancellationToken) is { } problem
                ? Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready", detail: problem)
                : Results.Ok(new { status = "ready" }))
            .AllowAnonymous().ExcludeFromDescription();
        return routes;
    }
}

/// <summary>Readiness: migrations applied (<see cref="StoreReadiness"/>) and a round trip to the store now.</summary>
internal sealed class StoreProbe(DbDataSource db, StoreReadiness readiness)
{
    /// <summary>Null when ready, else why not.</summary>
    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        if (readiness.Problem is { } problem)
        {
            return problem;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await using var connection = await db.OpenConnectionAsync(timeout.Token);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: timeout.Token));
            if (readiness.WriteProblem is { } writeProblem)
            {
                // The last write failed: ready again only once the store takes a write lock (then released at once).
                // Without this, a not-ready instance that gets no traffic would never find out it recovered.
                if (!await CanWriteAsync(connection, timeout.Token))
                {
                    return writeProblem;
                }

                readiness.ReportWriteSucceeded();
            }

            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return $"The store is not reachable: {ex.Message}";
        }
    }

    /// <summary>
    /// Whether the store takes a write now: a real one-row update, rolled back (a bare BEGIN IMMEDIATE did not
    /// reliably report a held lock through the provider). SQLite waits at most half a second for the lock.
    /// </summary>
    private async Task<bool> CanWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var sqlite = connection as Microsoft.Data.Sqlite.SqliteConnection;
        if (sqlite is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA busy_timeout=500;", cancellationToken: cancellationToken));
        }

        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE schema_migrations SET applied_at = applied_at WHERE id = (SELECT MIN(id) FROM schema_migrations)",
                transaction: transaction, commandTimeout: 1, cancellationToken: cancellationToken));
            await transaction.RollbackAsync(cancellationToken);
            return db is not SqliteStoreDataSource sqliteStore || CanWriteJournal(sqliteStore);
        }
        catch (DbException)
        {
            return false;
        }
        finally
        {
            if (sqlite is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    $"PRAGMA busy_timeout={(db as SqliteStoreDataSource)?.BusyTimeoutMs ?? 10_000};", cancellationToken: CancellationToken.None));
            }
        }
    }

    /// <summary>Whether SQLite's ingest journal (where acknowledgements are written) takes its write lock now.</summary>
    private static bool CanWriteJournal(SqliteStoreDataSource sqlite)
    {
        try
        {
            using var journal = sqlite.OpenJournalConnection();
            journal.DefaultTimeout = 1; // the provider retries a busy BEGIN for this many seconds (busy_timeout alone does not cap it)
            using var command = journal.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout=500;";
            command.ExecuteNonQuery();
            try
            {
                using var transaction = journal.BeginTransaction(deferred: false);
                transaction.Rollback();
                return true;
            }
            finally
            {
                // The connection goes back to the pool: with the store's own timeout.
                command.CommandText = $"PRAGMA busy_timeout={sqlite.BusyTimeoutMs};";
                command.ExecuteNonQuery();
            }
        }
        catch (DbException)
        {
            return false;
        }
    }
}
