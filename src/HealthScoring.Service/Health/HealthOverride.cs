using System.Data.Common;
using Dapper;

namespace HealthScoring.Service.Health;

/// <summary>A CSM's judgement beside the computed score: never replaces it, expires by itself.</summary>
internal sealed record HealthOverride(int? Score, string? Band, string Reason, DateTimeOffset ExpiresAt, string SetBy, DateTimeOffset SetAt);

internal sealed class HealthOverrideRepository(DbDataSource db)
{
    public async Task<bool> SetAsync(string accountId, HealthOverride value, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE accounts SET override_score = @Score, override_band = @Band, override_reason = @Reason,
              override_expires_at = @ExpiresAt, override_set_by = @SetBy, override_set_at = @SetAt
            WHERE account_id = @accountId
            """,
            new
            {
                accountId, value.Score, value.Band, value.Reason, value.SetBy,
                ExpiresAt = value.ExpiresAt.ToUnixTimeMilliseconds(), SetAt = value.SetAt.ToUnixTimeMilliseconds(),
            }, cancellationToken: cancellationToken)) > 0;
    }

    public async Task<bool> ClearAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE accounts SET override_score = NULL, override_band = NULL, override_reason = NULL,
              override_expires_at = NULL, override_set_by = NULL, override_set_at = NULL
            WHERE account_id = @accountId AND override_reason IS NOT NULL
            """, new { accountId }, cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>The account's override if one is set and not expired at <paramref name="now"/>.</summary>
    public async Task<HealthOverride?> GetActiveAsync(string accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            """
            SELECT override_score AS Score, override_band AS Band, override_reason AS Reason, override_expires_at AS ExpiresAt,
                   override_set_by AS SetBy, override_set_at AS SetAt
            FROM accounts WHERE account_id = @accountId AND override_reason IS NOT NULL AND override_expires_at > @now
            """, new { accountId, now = now.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return row is null ? null : new HealthOverride((int?)row.Score, row.Band, row.Reason, DateTimeOffset.FromUnixTimeMilliseconds(row.ExpiresAt),
            row.SetBy, DateTimeOffset.FromUnixTimeMilliseconds(row.SetAt));
    }

    private sealed class Row
    {
        public long? Score { get; init; }
        public string? Band { get; init; }
        public string Reason { get; init; } = "";
        public long ExpiresAt { get; init; }
        public string SetBy { get; init; } = "";
        public long SetAt { get; init; }
    }
}
