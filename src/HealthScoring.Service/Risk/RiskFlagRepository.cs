using System.Data.Common;
using Dapper;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Risk;

/// <summary>Filters of the risk flag list; null means any.</summary>
internal sealed record RiskFlagQuery(string? AccountId, string? Type, string? Severity, bool? Active, long? RaisedSinceMs, (long Day, string Id)? After, int Limit);

/// <summary>Reads of risk flags (the scorer writes them, see <see cref="RiskFlagWriter"/>).</summary>
internal sealed class RiskFlagRepository(DbDataSource db, SqlDialect dialect)
{
    /// <summary>Flags newest first (by day raised, then id); <see cref="RiskFlagQuery.After"/> continues after the previous page.</summary>
    public async Task<IReadOnlyList<StoredFlag>> ListAsync(RiskFlagQuery q, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (q.AccountId is not null)
        {
            where.Add("account_id = @AccountId");
        }

        if (q.Type is not null)
        {
            where.Add("type = @Type");
        }

        if (q.Severity is not null)
        {
            where.Add("severity = @Severity");
        }

        if (q.Active is { } active)
        {
            where.Add(active ? "cleared_day IS NULL" : "cleared_day IS NOT NULL");
        }

        if (q.RaisedSinceMs is not null)
        {
            where.Add("raised_at >= @RaisedSinceMs");
        }

        if (q.After is not null)
        {
            where.Add("(raised_day < @AfterDay OR (raised_day = @AfterDay AND id < @AfterId))");
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<StoredFlag>(new CommandDefinition(
            $"""
            SELECT {StoredFlag.Columns} FROM risk_flags
            {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
            ORDER BY raised_day DESC, id DESC
            {dialect.Limit("@Limit")}
            """,
            new { q.AccountId, q.Type, q.Severity, q.RaisedSinceMs, AfterDay = q.After?.Day, AfterId = q.After?.Id, q.Limit },
            cancellationToken: cancellationToken))).ToList();
    }
}
