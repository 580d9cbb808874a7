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
}
