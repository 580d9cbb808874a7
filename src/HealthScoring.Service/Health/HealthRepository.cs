using System.Data.Common;
using System.Text.Json;
using Dapper;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Health;

/// <summary>An account due for scoring: which days, and the change counter seen when it was picked.</summary>
internal sealed record ScoringWork(string AccountId, int FromDay, long DirtyVersion);

/// <summary>What scoring needs of one account: CRM facts and daily usage over the look-back.</summary>
internal sealed record ScoringInputs(AccountFacts Facts, UsageHistory Usage, long DirtyVersion);

/// <summary>Health snapshots and the reads scoring needs. Portable SQL; dialect only for row limits.</summary>
internal sealed class HealthRepository(DbDataSource db, SqlDialect dialect)
{
    /// <summary>
    /// Accounts whose usage or facts changed, or whose latest snapshot is older than today (the UTC day
    /// rolled over, or they were never scored), with the first day to (re)compute.
    /// </summary>
    public async Task<IReadOnlyList<ScoringWork>> DueAsync(int today, int oldestDay, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<DueRow>(new CommandDefinition(
            $"""
            SELECT account_id AS AccountId, usage_changed_from_day AS ChangedFrom, health_day AS HealthDay,
                   dirty_version AS DirtyVersion, first_event_at AS FirstEventAt, contract_start AS ContractStart
            FROM accounts
            WHERE usage_changed_from_day IS NOT NULL OR health_day IS NULL OR health_day < @today
            ORDER BY account_id
            {dialect.Limit("@limit")}
            """, new { today, limit }, cancellationToken: cancellationToken));
        return rows.Select(r =>
        {
            var firstDay = Math.Min(r.FirstEventAt is { } f ? UtcDay.Of(DateTimeOffset.FromUnixTimeMilliseconds(f)) : today, (int?)r.ContractStart ?? today);
            var from = Math.Min(r.ChangedFrom is { } c ? (int)c : today, r.HealthDay is { } h ? (int)h + 1 : firstDay);
            return new ScoringWork(r.AccountId, Math.Clamp(from, oldestDay, today), r.DirtyVersion);
        }).ToList();
    }

    public async Task<ScoringInputs?> LoadAsync(string accountId, int fromDay, int toDay, bool withFirstSeen, CancellationToken cancellationToken) =>
        (await LoadManyAsync([accountId], fromDay, toDay, withFirstSeen, cancellationToken)).GetValueOrDefault(accountId);

    /// <summary>
    /// The inputs of many accounts at once: one query per table for the whole set (the usage rows come from
    /// range reads of the (account, day) primary keys), so a full rescore does not pay per-account round trips.
    /// </summary>
    public async Task<Dictionary<string, ScoringInputs>> LoadManyAsync(
        IReadOnlyList<string> accountIds, int fromDay, int toDay, bool withFirstSeen, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, ScoringInputs>(accountIds.Count, StringComparer.Ordinal);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        foreach (var chunk in accountIds.Chunk(500))
        {
            var ids = new { ids = chunk, fromDay, toDay };
            var facts = await connection.QueryAsync<FactsRow>(new CommandDefinition(
                """
                SELECT account_id AS AccountId, segment AS Segment, plan_name AS PlanName, seats_purchased AS SeatsPurchased,
                       contract_start AS ContractStart, renewal_date AS RenewalDate, first_event_at AS FirstEventAt,
                       goals_json AS GoalsJson, dirty_version AS DirtyVersion
                FROM accounts WHERE account_id IN @ids
                """, ids, cancellationToken: cancellationToken));
            var names = new Dictionary<string, Dictionary<int, Dictionary<string, NameUsage>>>(StringComparer.Ordinal);
            await using (var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
                "SELECT account_id, day, event_name, event_count, quantity FROM usage_daily WHERE account_id IN @ids AND day >= @fromDay AND day <= @toDay",
                ids, cancellationToken: cancellationToken)))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var days = names.TryGetValue(reader.GetString(0), out var d) ? d : names[reader.GetString(0)] = [];
                    var day = reader.GetInt32(1);
                    var byName = days.TryGetValue(day, out var n) ? n : days[day] = new(StringComparer.Ordinal);
                    byName[reader.GetString(2)] = new NameUsage(reader.GetInt64(3), reader.GetDouble(4));
                }
            }

            var users = new Dictionary<string, Dictionary<int, List<string>>>(StringComparer.Ordinal);
            await using (var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
                "SELECT account_id, day, user_id FROM active_users_daily WHERE account_id IN @ids AND day >= @fromDay AND day <= @toDay",
                ids, cancellationToken: cancellationToken)))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var days = users.TryGetValue(reader.GetString(0), out var d) ? d : users[reader.GetString(0)] = [];
                    var day = reader.GetInt32(1);
                    (days.TryGetValue(day, out var list) ? list : days[day] = []).Add(reader.GetString(2));
                }
            }

            var firstSeen = new Dictionary<string, Dictionary<string, DateOnly>>(StringComparer.Ordinal);
            if (withFirstSeen)
            {
                foreach (var (account, name, day) in await connection.QueryAsync<(string, string, long)>(new CommandDefinition(
                    "SELECT account_id, event_name, MIN(day) FROM usage_daily WHERE account_id IN @ids GROUP BY account_id, event_name",
                    ids, cancellationToken: cancellationToken)))
                {
                    (firstSeen.TryGetValue(account, out var f) ? f : firstSeen[account] = new(StringComparer.Ordinal))[name] = UtcDay.ToDate((int)day);
                }
            }

            foreach (var row in facts)
            {
                var accountUsers = users.GetValueOrDefault(row.AccountId);
                var days = names.GetValueOrDefault(row.AccountId)?.Select(d => new UsageDay(
                    UtcDay.ToDate(d.Key), d.Value,
                    (IReadOnlyCollection<string>?)accountUsers?.GetValueOrDefault(d.Key) ?? [])) ?? [];
                IReadOnlyDictionary<string, DateOnly>? seen = withFirstSeen ? firstSeen.GetValueOrDefault(row.AccountId) ?? new Dictionary<string, DateOnly>() : null;
                result[row.AccountId] = new ScoringInputs(row.ToFacts(), new UsageHistory(days, seen), row.DirtyVersion);
            }
        }

        return result;
    }

    /// <summary>
    /// Replaces the snapshots of each account's recomputed days, sets its current health from the last of them,
    /// and clears its work flag unless it changed again meanwhile. One transaction for the whole set.
    /// </summary>
    public async Task SaveAsync(IReadOnlyList<(ScoringWork Work, IReadOnlyList<HealthResult> Days)> scored, long nowMs, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var (work, days) in scored)
        {
            if (days.Count == 0)
            {
                continue;
            }

            var first = UtcDay.FromDate(days[0].AsOf);
            var last = days[^1];
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM health_daily WHERE account_id = @accountId AND day >= @first",
                new { accountId = work.AccountId, first }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO health_daily (account_id, day, score, band, deployment, engagement, adoption, roi, scorecard_id, scorecard_version)
                VALUES (@AccountId, @Day, @Score, @Band, @Deployment, @Engagement, @Adoption, @Roi, @ScorecardId, @ScorecardVersion)
                """,
                days.Select(SnapshotRow.From), transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE accounts SET
                  health_changed_at = CASE WHEN health_day IS NULL OR COALESCE(score, -1) <> COALESCE(@score, -1)
                                             OR COALESCE(band, '') <> COALESCE(@band, '') THEN @now ELSE health_changed_at END,
                  score = @score, band = @band, health_day = @day, health_json = @json, health_computed_at = @now,
                  usage_changed_from_day = CASE WHEN dirty_version = @dirtyVersion THEN NULL ELSE usage_changed_from_day END
                WHERE account_id = @accountId
                """,
                new
                {
                    accountId = work.AccountId,
                    score = last.Score,
                    band = BandName(last.Band),
                    day = UtcDay.FromDate(last.AsOf),
                    json = JsonSerializer.Serialize(last, AccountRepository.Json),
                    now = nowMs,
                    dirtyVersion = work.DirtyVersion,
                }, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The stored explanation of the account's latest day, or null when it was never scored.</summary>
    public async Task<(HealthResult Result, long ComputedAt)?> CurrentAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(string? Json, long? ComputedAt)>(new CommandDefinition(
            "SELECT health_json, health_computed_at FROM accounts WHERE account_id = @accountId",
            new { accountId }, cancellationToken: cancellationToken));
        return row.Json is null ? null : (JsonSerializer.Deserialize<HealthResult>(row.Json, AccountRepository.Json)!, row.ComputedAt ?? 0);
    }

    public async Task<IReadOnlyList<SnapshotRow>> HistoryAsync(string accountId, int fromDay, int toDay, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<SnapshotRow>(new CommandDefinition(
            """
            SELECT account_id AS AccountId, day AS Day, score AS Score, band AS Band, deployment AS Deployment,
                   engagement AS Engagement, adoption AS Adoption, roi AS Roi, scorecard_id AS ScorecardId,
                   scorecard_version AS ScorecardVersion
            FROM health_daily WHERE account_id = @accountId AND day >= @fromDay AND day <= @toDay ORDER BY day
            """, new { accountId, fromDay, toDay }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>Asks for the given accounts (all when null) to be recomputed from <paramref name="fromDay"/>.</summary>
    public async Task<int> RequestRescoreAsync(IReadOnlyList<string>? accountIds, int fromDay, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE accounts SET dirty_version = dirty_version + 1,
              usage_changed_from_day = CASE WHEN usage_changed_from_day IS NULL OR usage_changed_from_day > @fromDay
                                            THEN @fromDay ELSE usage_changed_from_day END
            """;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        if (accountIds is null)
        {
            return await connection.ExecuteAsync(new CommandDefinition(sql, new { fromDay }, cancellationToken: cancellationToken));
        }

        var count = 0;
        foreach (var chunk in accountIds.Chunk(500))
        {
            count += await connection.ExecuteAsync(new CommandDefinition(
                sql + " WHERE account_id IN @ids", new { fromDay, ids = chunk }, cancellationToken: cancellationToken));
        }

        return count;
    }

    public static string? BandName(Band? band) => band?.ToString().ToLowerInvariant();

    internal sealed class SnapshotRow
    {
        public string AccountId { get; init; } = "";
        public long Day { get; init; }
        public long? Score { get; init; }
        public string? Band { get; init; }
        public double? Deployment { get; init; }
        public double? Engagement { get; init; }
        public double? Adoption { get; init; }
        public double? Roi { get; init; }
        public string ScorecardId { get; init; } = "";
        public long ScorecardVersion { get; init; }

        public static SnapshotRow From(HealthResult r) => new()
        {
            AccountId = r.AccountId,
            Day = UtcDay.FromDate(r.AsOf),
            Score = r.Score,
            Band = BandName(r.Band),
            Deployment = r.DimensionScore(Scoring.Scorecards.DimensionKeys.Deployment),
            Engagement = r.DimensionScore(Scoring.Scorecards.DimensionKeys.Engagement),
            Adoption = r.DimensionScore(Scoring.Scorecards.DimensionKeys.Adoption),
            Roi = r.DimensionScore(Scoring.Scorecards.DimensionKeys.Roi),
            ScorecardId = r.ScorecardId,
            ScorecardVersion = r.ScorecardVersion,
        };
    }

    private sealed class DueRow
    {
        public string AccountId { get; init; } = "";
        public long? ChangedFrom { get; init; }
        public long? HealthDay { get; init; }
        public long DirtyVersion { get; init; }
        public long? FirstEventAt { get; init; }
        public long? ContractStart { get; init; }
    }

    private sealed class FactsRow
    {
        public string AccountId { get; init; } = "";
        public string? Segment { get; init; }
        public string? PlanName { get; init; }
        public long? SeatsPurchased { get; init; }
        public long? ContractStart { get; init; }
        public long? RenewalDate { get; init; }
        public long? FirstEventAt { get; init; }
        public string? GoalsJson { get; init; }
        public long DirtyVersion { get; init; }

        public AccountFacts ToFacts() => new()
        {
            AccountId = AccountId,
            Segment = Segment,
            Plan = PlanName,
            SeatsPurchased = (int?)SeatsPurchased,
            StartDate = ContractStart is { } cs
                ? UtcDay.ToDate((int)cs)
                : FirstEventAt is { } f ? UtcDay.ToDate(UtcDay.Of(DateTimeOffset.FromUnixTimeMilliseconds(f))) : null,
            RenewalDate = RenewalDate is { } rd ? UtcDay.ToDate((int)rd) : null,
            Goals = GoalsJson is null ? [] : JsonSerializer.Deserialize<List<Goal>>(GoalsJson, AccountRepository.Json) ?? [],
        };
    }
}
