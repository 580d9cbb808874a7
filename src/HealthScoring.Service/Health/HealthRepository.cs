using System.Data;
using System.Data.Common;
using Dapper;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Risk;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Webhooks;

namespace HealthScoring.Service.Health;

/// <summary>
/// An account due for scoring: which days, and the change counter seen when it was picked; <paramref name="ScoredThrough"/>
/// is the last day it has stored snapshots for (none after it), when known.
/// </summary>
internal sealed record ScoringWork(string AccountId, int FromDay, long DirtyVersion, int? ScoredThrough = null);

/// <summary>
/// What scoring needs of one account: CRM facts and daily usage over the look-back; the stored scores of the days
/// before the first recomputed one (for the risk rules) and of the trend's days (<see cref="UsageLoadPlan.ScoresOn"/>);
/// the flags active since the first recomputed day; the current band.
/// </summary>
internal sealed record ScoringInputs(AccountFacts Facts, UsageHistory Usage, long DirtyVersion)
{
    public IReadOnlyDictionary<int, int?> EarlierScores { get; init; } = new Dictionary<int, int?>();

    public IReadOnlyList<StoredFlag> Flags { get; init; } = [];

    public string? Band { get; init; }

    /// <summary>How <see cref="Usage"/> was read from the rows (the scorer keeps a snapshot of it); null when it came from a snapshot.</summary>
    public UsageLoad? LoadedFrom { get; init; }
}

/// <summary>A usage load from the rows: its plan, and the event names read by name (the plan's and the accounts' goal metrics).</summary>
internal sealed record UsageLoad(UsageLoadPlan Plan, IReadOnlySet<string> Names);

/// <summary>An account's stored current health: the day it is for, the stored document, and the active override.</summary>
/// <remarks><see cref="Json"/> is the stored document's UTF-8, served as it is.</remarks>
internal sealed record StoredHealth(int? Day, byte[]? Json, long ComputedAt, HealthOverride? Override);

/// <summary>
/// Health snapshots and the reads scoring needs (the usage loads are in HealthRepository.Load.cs). Portable SQL;
/// dialect only for row limits.
/// </summary>
internal sealed partial class HealthRepository(DbDataSource db, SqlDialect dialect)
{
    public Task<IReadOnlyList<ScoringWork>> DueAsync(int today, int oldestDay, int limit, CancellationToken cancellationToken) =>
        DueAsync(today, oldestDay, limit, null, cancellationToken);

    /// <summary>
    /// Accounts whose usage or facts changed, or whose latest snapshot is older than today (the UTC day
    /// rolled over, or they were never scored), with the first day to (re)compute.
    /// </summary>
    /// <remarks>
    /// <paramref name="after"/> continues a pass from the last account of the previous round (keyset paging):
    /// without it every round would scan again, in key order, all the accounts scored before (quadratic in a
    /// full rescore of a large book).
    /// </remarks>
    /// <summary>Whether any account is stale (never scored, or scored before @today): two seeks in the health_day index.</summary>
    internal const string AnyStaleSql = """
        SELECT CASE WHEN EXISTS (SELECT 1 FROM accounts WHERE health_day IS NULL)
                      OR EXISTS (SELECT 1 FROM accounts WHERE health_day < @today) THEN 1 ELSE 0 END
        """;

    public async Task<IReadOnlyList<ScoringWork>> DueAsync(int today, int oldestDay, int limit, string? after, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // Stale accounts (a new UTC day, or never scored) are searched in key order only when the health_day index
        // says there are any; otherwise only the changed accounts are read, through their partial index. Without
        // this, every idle poll of a large book read the whole accounts table.
        var anyStale = await connection.ExecuteScalarAsync<int>(new CommandDefinition(AnyStaleSql, new { today }, cancellationToken: cancellationToken)) == 1;
        var columns = """
            account_id AS AccountId, usage_changed_from_day AS ChangedFrom, health_day AS HealthDay,
            dirty_version AS DirtyVersion, first_event_at AS FirstEventAt, contract_start AS ContractStart
            """;
        var rows = await connection.QueryAsync<DueRow>(new CommandDefinition(
            anyStale
                ? $"""
                  SELECT {columns} FROM accounts
                  WHERE {(after is null ? "" : "account_id > @after AND ")}(usage_changed_from_day IS NOT NULL OR health_day IS NULL OR health_day < @today)
                  ORDER BY account_id
                  {dialect.Limit("@limit")}
                  """
                : $"""
                  SELECT {columns} FROM accounts {dialect.ChangedAccountsIndex}
                  WHERE {(after is null ? "" : "account_id > @after AND ")}usage_changed_from_day IS NOT NULL
                  ORDER BY account_id
                  {dialect.Limit("@limit")}
                  """,
            new { today, limit, after }, cancellationToken: cancellationToken));
        return rows.Select(r =>
        {
            var firstDay = Math.Min(r.FirstEventAt is { } f ? UtcDay.Of(DateTimeOffset.FromUnixTimeMilliseconds(f)) : today, (int?)r.ContractStart ?? today);
            var from = Math.Min(r.ChangedFrom is { } c ? (int)c : today, r.HealthDay is { } h ? (int)h + 1 : firstDay);
            return new ScoringWork(r.AccountId, Math.Clamp(from, oldestDay, today), r.DirtyVersion, (int?)r.HealthDay);
        }).ToList();
    }

    /// <summary>
    /// Replaces the snapshots of each account's recomputed days, sets its current health from the last of them
    /// (stored as the ready-to-serve GET response, see <see cref="HealthDocument"/>), keeps the usage it was computed
    /// from when that was read from the rows (<see cref="UsageSnapshot"/>), reconciles its risk flags,
    /// queues the webhook deliveries those changes cause (the outbox), and clears its work flag unless it changed
    /// again meanwhile. One transaction for the whole set, with one prepared command per statement reused for
    /// every row (re-preparing per row cost more than executing).
    /// </summary>
    public async Task SaveAsync(IReadOnlyList<ScoredAccount> scored, long nowMs, CancellationToken cancellationToken)
    {
        var saved = scored.Where(s => s.Days.Count > 0).ToList();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(nowMs);
        var today = UtcDay.Of(now);
        // The scorer renders the documents in its parallel phase; accounts scored without one get theirs here.
        var unrendered = saved.Where(s => s.Document is null).ToList();
        var earlier = await EarlierScoresAsync(unrendered, cancellationToken);
        var documents = saved.Select(s => s.Document ?? HealthDocument.Render(s.Days, earlier.GetValueOrDefault(s.Work.AccountId) ?? [], now)).ToArray();

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var delete = PreparedCommand.Create(connection, transaction,
            "DELETE FROM health_daily WHERE account_id = @accountId AND day >= @first",
            ("accountId", DbType.String), ("first", DbType.Int32));
        await using var insert = PreparedCommand.Create(connection, transaction,
            """
            INSERT INTO health_daily (account_id, day, score, band, deployment, engagement, adoption, roi, scorecard_id, scorecard_version, measure_scores)
            VALUES (@accountId, @day, @score, @band, @deployment, @engagement, @adoption, @roi, @scorecardId, @scorecardVersion, @measureScores)
            """,
            ("accountId", DbType.String), ("day", DbType.Int32), ("score", DbType.Int32), ("band", DbType.String),
            ("deployment", DbType.Double), ("engagement", DbType.Double), ("adoption", DbType.Double), ("roi", DbType.Double),
            ("scorecardId", DbType.String), ("scorecardVersion", DbType.Int32), ("measureScores", DbType.AnsiString));
        await using var update = PreparedCommand.Create(connection, transaction,
            """
            UPDATE accounts SET
              health_changed_at = CASE WHEN @flagsChanged = 1 OR health_day IS NULL OR COALESCE(score, -1) <> COALESCE(@score, -1)
                                         OR COALESCE(band, '') <> COALESCE(@band, '') THEN @now ELSE health_changed_at END,
              score = @score, band = @band, health_day = @day, health_json = @json, health_computed_at = @now,
              usage_changed_from_day = CASE WHEN dirty_version = @dirtyVersion THEN NULL ELSE usage_changed_from_day END
            WHERE account_id = @accountId
            """,
            ("accountId", DbType.String), ("score", DbType.Int32), ("band", DbType.String), ("day", DbType.Int32),
            ("json", DbType.String), ("now", DbType.Int64), ("dirtyVersion", DbType.Int64), ("flagsChanged", DbType.Int32));

        await using var deleteSnapshot = PreparedCommand.Create(connection, transaction,
            "DELETE FROM usage_snapshots WHERE account_id = @accountId", ("accountId", DbType.String));
        await using var insertSnapshot = PreparedCommand.Create(connection, transaction,
            "INSERT INTO usage_snapshots (account_id, dirty_version, data) VALUES (@accountId, @dirtyVersion, @data)",
            ("accountId", DbType.String), ("dirtyVersion", DbType.Int64), ("data", DbType.Binary));

        await using var flagWriter = await RiskFlagWriter.CreateAsync(connection, transaction);
        var events = new List<OutboxEvent>();
        for (var i = 0; i < saved.Count; i++)
        {
            var account = saved[i];
            var (work, days) = (account.Work, account.Days);
            // A new day after the last stored one (every account when the UTC day rolls over) replaces nothing.
            if (work.ScoredThrough is not { } through || through >= UtcDay.FromDate(days[0].AsOf))
            {
                await delete.ExecuteAsync(cancellationToken, work.AccountId, UtcDay.FromDate(days[0].AsOf));
            }

            foreach (var day in days)
            {
                await insert.ExecuteAsync(cancellationToken, work.AccountId, UtcDay.FromDate(day.AsOf), day.Score, BandName(day.Band),
                    day.DimensionScore(DimensionKeys.Deployment), day.DimensionScore(DimensionKeys.Engagement),
                    day.DimensionScore(DimensionKeys.Adoption), day.DimensionScore(DimensionKeys.Roi), day.ScorecardId, day.ScorecardVersion,
                    MeasureScores.Encode(day));
            }

            // The scorer plans the flag writes in its parallel phase; accounts scored without a plan get theirs here.
            var flags = account.FlagChanges ?? RiskFlagWriter.Plan(account, today, nowMs);
            await flagWriter.ApplyAsync(flags, nowMs, events, cancellationToken);
            var flagsChanged = flags.Changed;
            var last = days[^1];
            var band = BandName(last.Band);
            await update.ExecuteAsync(cancellationToken, work.AccountId, last.Score, band, UtcDay.FromDate(last.AsOf),
                new PreparedCommand.Utf8Text(documents[i]), nowMs, work.DirtyVersion, flagsChanged ? 1 : 0);
            if (account.UsageSnapshot is { } snapshot)
            {
                await deleteSnapshot.ExecuteAsync(cancellationToken, work.AccountId);
                await insertSnapshot.ExecuteAsync(cancellationToken, work.AccountId, snapshot.DirtyVersion, snapshot.Data);
            }

            if (account.PreviousBand is { } previous && band is not null && previous != band && UtcDay.FromDate(last.AsOf) >= today)
            {
                events.Add(OutboxEvent.BandChanged(work.AccountId, previous, band, last.Score, last.AsOf));
            }
        }

        await WebhookRepository.EnqueueAsync(connection, transaction, events, nowMs, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The stored scores the trend deltas compare with (7 and 30 days before each account's last day) where
    /// those days are not among the days being replaced.
    /// </summary>
    private async Task<Dictionary<string, Dictionary<int, int?>>> EarlierScoresAsync(IReadOnlyList<ScoredAccount> saved, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, Dictionary<int, int?>>(StringComparer.Ordinal);
        var wanted = saved
            .SelectMany(s => HealthDocument.TrendDays.Select(d => (s.Work.AccountId, Day: UtcDay.FromDate(s.Days[^1].AsOf) - d, First: UtcDay.FromDate(s.Days[0].AsOf))))
            .Where(w => w.Day < w.First)
            .ToList();
        if (wanted.Count == 0)
        {
            return result;
        }

        var days = wanted.Select(w => w.Day).Distinct().ToArray();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        foreach (var chunk in wanted.Select(w => w.AccountId).Distinct().Chunk(500))
        {
            foreach (var (accountId, day, score) in await connection.QueryAsync<(string, long, long?)>(new CommandDefinition(
                $"SELECT account_id, day, score FROM health_daily WHERE account_id IN {dialect.InList("@ids")} AND day IN @days",
                new { ids = dialect.Keys(chunk), days }, cancellationToken: cancellationToken)))
            {
                (result.TryGetValue(accountId, out var scores) ? scores : result[accountId] = [])[(int)day] = (int?)score;
            }
        }

        return result;
    }

    /// <summary>
    /// What GET .../health serves for today: the stored document, its day, and the CSM override if one is
    /// active at <paramref name="now"/>. One indexed single-row read; null when the account does not exist.
    /// </summary>
    public async Task<StoredHealth?> StoredAsync(string accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The hottest read of the service (GET .../health): on SQLite a kept prepared statement, elsewhere Dapper.
        StoredRow? row;
        if (db is SqliteStoreDataSource sqlite)
        {
            row = await sqlite.ReadPreparedAsync(StoredSqlPositional, [accountId], StoredRow.Read, cancellationToken);
        }
        else
        {
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(StoredSql, new { accountId }, cancellationToken: cancellationToken));
            row = StoredRow.Read(reader);
        }

        if (row is null)
        {
            return null;
        }

        // An override counts while it is set and not expired.
        var active = row is { OverrideReason: { } reason, OverrideExpiresAt: { } expires } && expires > now.ToUnixTimeMilliseconds()
            ? new HealthOverride((int?)row.OverrideScore, row.OverrideBand, reason, DateTimeOffset.FromUnixTimeMilliseconds(expires),
                row.OverrideSetBy ?? "", DateTimeOffset.FromUnixTimeMilliseconds(row.OverrideSetAt ?? 0))
            : null;
        return new StoredHealth((int?)row.HealthDay, row.Json, row.ComputedAt ?? 0, active);
    }

    private const string StoredSql = """
        SELECT health_day, health_json, health_computed_at, override_score, override_band, override_reason,
               override_expires_at, override_set_by, override_set_at
        FROM accounts WHERE account_id = @accountId
        """;

    private static readonly string StoredSqlPositional = StoredSql.Replace("@accountId", "@p0", StringComparison.Ordinal);

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
                sql + $" WHERE account_id IN {dialect.InList("@ids")}", new { fromDay, ids = dialect.Keys(chunk) }, cancellationToken: cancellationToken));
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
            Deployment = r.DimensionScore(DimensionKeys.Deployment),
            Engagement = r.DimensionScore(Scoring.Scorecards.DimensionKeys.Engagement),
            Adoption = r.DimensionScore(Scoring.Scorecards.DimensionKeys.Adoption),
            Roi = r.DimensionScore(Scoring.Scorecards.DimensionKeys.Roi),
            ScorecardId = r.ScorecardId,
            ScorecardVersion = r.ScorecardVersion,
        };
    }

    private sealed class StoredRow
    {
        public long? HealthDay { get; init; }
        public byte[]? Json { get; init; }
        public long? ComputedAt { get; init; }
        public long? OverrideScore { get; init; }
        public string? OverrideBand { get; init; }
        public string? OverrideReason { get; init; }
        public long? OverrideExpiresAt { get; init; }
        public string? OverrideSetBy { get; init; }
        public long? OverrideSetAt { get; init; }

        /// <summary>A row of <see cref="StoredSql"/>'s columns from SQLite's own statement (the document's UTF-8 as stored).</summary>
        public static StoredRow Read(SqliteRow row)
        {
            long? Long(int i) => row.IsNull(i) ? null : row.Int64(i);
            string? Text(int i) => row.IsNull(i) ? null : row.Text(i);
            return new StoredRow
            {
                HealthDay = Long(0), Json = row.IsNull(1) ? null : row.Utf8(1), ComputedAt = Long(2), OverrideScore = Long(3),
                OverrideBand = Text(4), OverrideReason = Text(5), OverrideExpiresAt = Long(6), OverrideSetBy = Text(7), OverrideSetAt = Long(8),
            };
        }

        /// <summary>The first row of <see cref="StoredSql"/>'s columns, by position; null without one.</summary>
        public static StoredRow? Read(DbDataReader reader)
        {
            if (!reader.Read())
            {
                return null;
            }

            // By value, not GetInt64: SQL Server's reader refuses GetInt64 on an INT column (health_day, override_score).
            long? Long(int i) => reader.IsDBNull(i) ? null : Convert.ToInt64(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            byte[]? Utf8(int i) => reader.IsDBNull(i) ? null : System.Text.Encoding.UTF8.GetBytes(reader.GetString(i));
            return new StoredRow
            {
                HealthDay = Long(0), Json = Utf8(1), ComputedAt = Long(2), OverrideScore = Long(3), OverrideBand = Text(4),
                OverrideReason = Text(5), OverrideExpiresAt = Long(6), OverrideSetBy = Text(7), OverrideSetAt = Long(8),
            };
        }
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
}
