using System.Data.Common;
using Dapper;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Accounts;

/// <summary>Filters of a portfolio pull; null means any.</summary>
internal sealed record PortfolioQuery(
    string? Band, string? Segment, string? Plan, string? RiskFlag, int? MinScore, int? MaxScore, long? UpdatedSinceMs, string? After, int Limit);

/// <summary>One account in a bulk pull: its CRM summary, current health and active flags.</summary>
internal sealed record PortfolioItem(
    string AccountId,
    string? Name,
    string? Segment,
    string? Plan,
    string Status,
    double? Mrr,
    DateOnly? RenewalDate,
    int? Score,
    string? Band,
    DateOnly? HealthAsOf,
    IReadOnlyList<ActiveFlag> RiskFlags,
    DateTime? UpdatedAt);

internal sealed record ActiveFlag(string Id, string Type, string Severity, DateOnly RaisedOn);

/// <summary>
/// The book of business in account-id order (keyset paging: a page starts after the last id of the one before,
/// so changes while paging never skip or repeat an account). <c>updatedAt</c> is when the score, band or flags
/// last changed.
/// </summary>
internal sealed class PortfolioRepository(DbDataSource db, SqlDialect dialect)
{
    public async Task<IReadOnlyList<PortfolioItem>> ListAsync(PortfolioQuery q, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        void When(bool condition, string clause)
        {
            if (condition)
            {
                where.Add(clause);
            }
        }

        When(q.After is not null, "a.account_id > @After");
        When(q.Band is not null, "a.band = @Band");
        When(q.Segment is not null, "a.segment = @Segment");
        When(q.Plan is not null, "a.plan_name = @Plan");
        When(q.MinScore is not null, "a.score >= @MinScore");
        When(q.MaxScore is not null, "a.score <= @MaxScore");
        When(q.UpdatedSinceMs is not null, "a.health_changed_at >= @UpdatedSinceMs");
        When(q.RiskFlag is not null, "EXISTS (SELECT 1 FROM risk_flags f WHERE f.account_id = a.account_id AND f.type = @RiskFlag AND f.cleared_day IS NULL)");

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(
            $"""
            SELECT a.account_id AS AccountId, a.name AS Name, a.segment AS Segment, a.plan_name AS PlanName, a.status AS Status,
                   a.mrr AS Mrr, a.renewal_date AS RenewalDate, a.score AS Score, a.band AS Band, a.health_day AS HealthDay,
                   a.health_changed_at AS ChangedAt
            FROM accounts a
            {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
            ORDER BY a.account_id
            {dialect.Limit("@Limit")}
            """, q, cancellationToken: cancellationToken))).ToList();

        var flags = new Dictionary<string, List<ActiveFlag>>(StringComparer.Ordinal);
        if (rows.Count > 0)
        {
            // The page's active flags in one read (at most 1,000 ids: under SQL Server's 2,100-parameter limit).
            foreach (var f in await connection.QueryAsync<(string AccountId, string Id, string Type, string Severity, long RaisedDay)>(new CommandDefinition(
                $"SELECT account_id, id, type, severity, raised_day FROM risk_flags WHERE cleared_day IS NULL AND account_id IN {dialect.InList("@ids")}",
                new { ids = dialect.Keys(rows.Select(r => r.AccountId).ToArray()) }, cancellationToken: cancellationToken)))
            {
                (flags.TryGetValue(f.AccountId, out var list) ? list : flags[f.AccountId] = []).Add(new ActiveFlag(f.Id, f.Type, f.Severity, UtcDay.ToDate((int)f.RaisedDay)));
            }
        }

        return rows.Select(r => new PortfolioItem(
            r.AccountId, r.Name, r.Segment, r.PlanName, r.Status, r.Mrr,
            r.RenewalDate is { } rd ? UtcDay.ToDate((int)rd) : null,
            (int?)r.Score, r.Band,
            r.HealthDay is { } hd ? UtcDay.ToDate((int)hd) : null,
            flags.TryGetValue(r.AccountId, out var list) ? [.. list.OrderBy(f => f.Type, StringComparer.Ordinal)] : [],
            r.ChangedAt is { } c ? DateTimeOffset.FromUnixTimeMilliseconds(c).UtcDateTime : null)).ToList();
    }

    private sealed class Row
    {
        public string AccountId { get; init; } = "";
        public string? Name { get; init; }
        public string? Segment { get; init; }
        public string? PlanName { get; init; }
        public string Status { get; init; } = AccountStatus.Active;
        public double? Mrr { get; init; }
        public long? RenewalDate { get; init; }
        public long? Score { get; init; }
        public string? Band { get; init; }
        public long? HealthDay { get; init; }
        public long? ChangedAt { get; init; }
    }
}
