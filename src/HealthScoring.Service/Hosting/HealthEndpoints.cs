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
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return $"The store is not reachable: {ex.Message}";
        }
    }
}
