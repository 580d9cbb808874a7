using System.Data.Common;
using System.Text.Json;
using Dapper;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Risk;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Health;

/// <summary>
/// Which usage rows scoring loads: every row (and the active users) from <see cref="FullFrom"/> to
/// <see cref="ToDay"/>; before that, back to <see cref="NamedFrom"/>, only the rows of <see cref="EventNames"/>
/// (and of each account's goal metrics when <see cref="GoalNames"/>) plus the account's last day with usage in
/// that range (its other events summed). That one day keeps "days since last activity" and "no usage recorded
/// yet" exactly as if the whole range had been loaded; no other measure reads before <see cref="FullFrom"/>
/// except by name.
/// </summary>
/// <remarks>
/// With <see cref="FoldOtherNames"/>, the full range comes as one row per day: the named events, and the others
/// summed under <see cref="HealthRepository.OtherEvents"/> (the last day before the range always comes so).
/// Without it (a measure sums the quantity of every name, where the order of a floating-point sum shows) every
/// name is loaded by name.
/// </remarks>
/// <param name="ScoresFrom">With <paramref name="ScoresTo"/>: the stored daily scores the risk rules compare with
/// (health_drop), the days before the first recomputed day; none when ScoresFrom &gt; ScoresTo.</param>
/// <param name="FlagsFrom">Risk flags active on or after this day are loaded (the replay continues or retracts them).</param>
/// <param name="ScoresOn">Single days whose stored scores are loaded as well (the trend deltas of the stored document).</param>
internal sealed record UsageLoadPlan(
    int FullFrom, int NamedFrom, int ToDay, IReadOnlySet<string> EventNames, bool GoalNames, bool WithFirstSeen, bool FoldOtherNames,
    int ScoresFrom = 1, int ScoresTo = 0, int? FlagsFrom = null, IReadOnlyList<int>? ScoresOn = null);

/// <summary>What scoring reads of many accounts at once: CRM facts and the daily usage of <see cref="UsageLoadPlan"/>.</summary>
internal sealed partial class HealthRepository
{
    /// <summary>Every usage row of the accounts from <paramref name="fromDay"/> to <paramref name="toDay"/>.</summary>
    public Task<Dictionary<string, ScoringInputs>> LoadManyAsync(
        IReadOnlyList<string> accountIds, int fromDay, int toDay, bool withFirstSeen, CancellationToken cancellationToken) =>
        LoadManyAsync(accountIds, new UsageLoadPlan(fromDay, fromDay, toDay, new HashSet<string>(), false, withFirstSeen, FoldOtherNames: false), cancellationToken);

    /// <summary>
    /// The inputs of many accounts at once: a few queries per chunk of accounts (the usage rows come from range
    /// reads of the (account, day) primary keys), so a full rescore does not pay per-account round trips. Reading
    /// rows into .NET is the expensive part (a provider call per column), so chunks are read on
    /// <see cref="LoadConnections"/> connections in parallel and only the rows of <paramref name="plan"/> are read.
    /// </summary>
    public async Task<Dictionary<string, ScoringInputs>> LoadManyAsync(
        IReadOnlyList<string> accountIds, UsageLoadPlan plan, CancellationToken cancellationToken)
    {
        var chunkSize = Math.Clamp((accountIds.Count + LoadConnections - 1) / LoadConnections, 1, 500);
        var chunks = accountIds.Chunk(chunkSize).ToList();
        var workers = Math.Min(LoadConnections, chunks.Count);
        // Task.Run: the SQLite provider completes "async" calls synchronously, so plain tasks would not overlap.
        var parts = await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var part = new Dictionary<string, ScoringInputs>(StringComparer.Ordinal);
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            for (var i = worker; i < chunks.Count; i += workers)
            {
                await LoadChunkAsync(connection, dialect, chunks[i], plan, part, cancellationToken);
            }

            return part;
        }, cancellationToken)));

        var result = new Dictionary<string, ScoringInputs>(accountIds.Count, StringComparer.Ordinal);
        foreach (var (accountId, inputs) in parts.SelectMany(p => p))
        {
            result[accountId] = inputs;
        }

        return result;
    }

    /// <summary>Connections a batch load reads on in parallel (the engine's CPU work runs after the load).</summary>
    private const int LoadConnections = 2;

    private static async Task LoadChunkAsync(
        DbConnection connection, SqlDialect dialect, string[] chunk, UsageLoadPlan plan, Dictionary<string, ScoringInputs> result, CancellationToken cancellationToken)
    {
        var allIds = dialect.Keys(chunk);
        var inIds = dialect.InList("@ids");
        // With each account, its usage snapshot if no usage arrived since it was taken (same change counter).
        var facts = (await connection.QueryAsync<FactsRow>(new CommandDefinition(
            $"""
            SELECT a.account_id AS AccountId, a.segment AS Segment, a.plan_name AS PlanName, a.seats_purchased AS SeatsPurchased,
                   a.contract_start AS ContractStart, a.renewal_date AS RenewalDate, a.first_event_at AS FirstEventAt,
                   a.goals_json AS GoalsJson, a.dirty_version AS DirtyVersion, a.champion_user_id AS ChampionUserId,
                   a.status AS Status, a.churned_at AS ChurnedAt, a.band AS Band, {(plan.FoldOtherNames ? "s.data" : "NULL")} AS Snapshot
            FROM accounts a LEFT JOIN usage_snapshots s ON s.account_id = a.account_id AND s.dirty_version = a.dirty_version
            WHERE a.account_id IN {inIds}
            """, new { ids = allIds }, cancellationToken: cancellationToken))).Select(r => (Row: r, Facts: r.ToFacts())).ToList();

        // Accounts whose snapshot covers this load take their usage from it; the others read their rows.
        var fromSnapshot = new Dictionary<string, UsageHistory>(StringComparer.Ordinal);
        foreach (var (row, accountFacts) in facts)
        {
            if (row.Snapshot is { } data && UsageSnapshot.Decode(data) is { } snapshot
                && UsageSnapshot.For(snapshot.Header, snapshot.Usage, plan.FullFrom, plan.NamedFrom, plan.ToDay,
                    plan.GoalNames ? plan.EventNames.Concat(accountFacts.Goals.Select(g => g.Metric)) : plan.EventNames, plan.WithFirstSeen) is { } usageNow)
            {
                fromSnapshot[row.AccountId] = usageNow;
            }
        }

        var fresh = facts.Where(f => !fromSnapshot.ContainsKey(f.Row.AccountId)).ToList();
        Hosting.Telemetry.UsageLoads.Add(fromSnapshot.Count, new KeyValuePair<string, object?>("source", "snapshot"));
        Hosting.Telemetry.UsageLoads.Add(fresh.Count, new KeyValuePair<string, object?>("source", "rows"));
        var ids = dialect.Keys(fresh.Select(f => f.Row.AccountId).ToList());

        // Event names some measure reads by name: their rows are loaded as they are; every other event name of
        // a day is folded into one entry (OtherEvents) with the day's remaining events and quantity, which is all
        // any measure reads of them. Reading rows into .NET is what costs, and this makes it one row per day.
        var eventNames = plan.EventNames
            .Union(plan.GoalNames ? fresh.SelectMany(f => f.Facts.Goals.Select(g => g.Metric)) : [], StringComparer.Ordinal).ToArray();
        var loadedNames = new HashSet<string>(eventNames, StringComparer.Ordinal);
        var (count, quantity) = eventNames.Length == 0
            ? ("u.event_count", "u.quantity")
            : ("CASE WHEN u.event_name IN @eventNames THEN 0 ELSE u.event_count END", "CASE WHEN u.event_name IN @eventNames THEN 0 ELSE u.quantity END");
        var range = new { ids, plan.FullFrom, plan.NamedFrom, plan.ToDay, eventNames };
        var usage = new Dictionary<string, Dictionary<int, Dictionary<string, NameUsage>>>(StringComparer.Ordinal);

        var users = new Dictionary<string, Dictionary<int, List<string>>>(StringComparer.Ordinal);
        var firstSeen = new Dictionary<string, Dictionary<string, DateOnly>>(StringComparer.Ordinal);
        if (fresh.Count > 0)
        {
            if (!plan.FoldOtherNames)
            {
                await ReadNamedAsync(connection, usage, new CommandDefinition(
                    $"SELECT account_id, day, event_name, event_count, quantity FROM usage_daily WHERE account_id IN {inIds} AND day >= @FullFrom AND day <= @ToDay",
                    range, cancellationToken: cancellationToken));
            }
            else
            {
                await ReadDaysAsync(connection, usage, new CommandDefinition(
                    $"""
                    SELECT u.account_id, u.day, SUM({count}), SUM({quantity})
                    FROM usage_daily u
                    WHERE u.account_id IN {inIds} AND u.day >= @FullFrom AND u.day <= @ToDay
                    GROUP BY u.account_id, u.day
                    """, range, cancellationToken: cancellationToken));
            }

            if (plan.NamedFrom < plan.FullFrom)
            {
                // Each account's last day with usage before the full range: one index seek per account. (Scalar
                // subqueries, not a join with GROUP BY: with one, SQLite scans every row of the account.)
                await ReadDaysAsync(connection, usage, new CommandDefinition(
                    $"""
                    SELECT l.account_id, l.last_day,
                           (SELECT SUM({count}) FROM usage_daily u WHERE u.account_id = l.account_id AND u.day = l.last_day),
                           (SELECT SUM({quantity}) FROM usage_daily u WHERE u.account_id = l.account_id AND u.day = l.last_day)
                    FROM (SELECT a.account_id,
                                 (SELECT MAX(m.day) FROM usage_daily m
                                  WHERE m.account_id = a.account_id AND m.day >= @NamedFrom AND m.day < @FullFrom) AS last_day
                          FROM accounts a WHERE a.account_id IN {inIds}) l
                    WHERE l.last_day IS NOT NULL
                    """, range, cancellationToken: cancellationToken));
            }

            if (eventNames.Length > 0)
            {
                await ReadNamedAsync(connection, usage, new CommandDefinition(
                    $"""
                    SELECT account_id, day, event_name, event_count, quantity FROM usage_daily
                    WHERE account_id IN {inIds} AND day >= @NamedFrom AND day <= @NamedTo AND event_name IN @eventNames
                    """, new { ids, plan.NamedFrom, NamedTo = plan.FoldOtherNames ? plan.ToDay : plan.FullFrom - 1, eventNames },
                    cancellationToken: cancellationToken));
            }

            // Users only on days with usage (as before): no measure reads a day without events.
            if (dialect.Provider == StoreProvider.Sqlite)
            {
                // One row per account, its (day, user) pairs packed into one text: reading a row costs far more in the
                // provider than SQLite takes to build it (user ids hold no whitespace: EventValidator).
                await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
                    $"""
                    SELECT account_id, group_concat(day || ' ' || user_id, ' ') FROM active_users_daily
                    WHERE account_id IN {inIds} AND day >= @FullFrom AND day <= @ToDay GROUP BY account_id
                    """,
                    range, cancellationToken: cancellationToken));
                var names = new HashSet<string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
                while (await reader.ReadAsync(cancellationToken))
                {
                    var days = users[reader.GetString(0)] = [];
                    PackedRows.ReadUsers(reader.GetString(1), days, names);
                }
            }
            else
            {
                await ReadByAccountAsync(connection, users, new CommandDefinition(
                    $"SELECT account_id, day, user_id FROM active_users_daily WHERE account_id IN {inIds} AND day >= @FullFrom AND day <= @ToDay",
                    range, cancellationToken: cancellationToken), (reader, days) =>
                    {
                        var day = reader.GetInt32(1);
                        (days.TryGetValue(day, out var list) ? list : days[day] = []).Add(reader.GetString(2));
                    });
            }

            if (plan.WithFirstSeen)
            {
                foreach (var (account, name, day) in await connection.QueryAsync<(string, string, long)>(new CommandDefinition(
                    $"SELECT account_id, event_name, MIN(day) FROM usage_daily WHERE account_id IN {inIds} GROUP BY account_id, event_name",
                    new { ids }, cancellationToken: cancellationToken)))
                {
                    (firstSeen.TryGetValue(account, out var f) ? f : firstSeen[account] = new(StringComparer.Ordinal))[name] = UtcDay.ToDate((int)day);
                }
            }
        }

        UsageHistory FreshHistory(string accountId)
        {
            var accountUsers = users.GetValueOrDefault(accountId);
            var days = usage.GetValueOrDefault(accountId)?.Select(d => new UsageDay(
                UtcDay.ToDate(d.Key), d.Value, (IReadOnlyCollection<string>?)accountUsers?.GetValueOrDefault(d.Key) ?? [])) ?? [];
            // First-seen days are read only by onboarding milestones: without any configured, skip deriving them.
            var seen = plan.WithFirstSeen ? firstSeen.GetValueOrDefault(accountId) ?? NoFirstSeen : NoFirstSeen;
            return new UsageHistory(days, seen);
        }

        var earlierScores = new Dictionary<string, Dictionary<int, int?>>(StringComparer.Ordinal);
        if (plan.ScoresFrom <= plan.ScoresTo)
        {
            await ReadScoresAsync(connection, dialect, earlierScores, $"account_id IN {inIds} AND day >= @ScoresFrom AND day <= @ScoresTo",
                new { ids = allIds, plan.ScoresFrom, plan.ScoresTo }, cancellationToken);
        }

        if (plan.ScoresOn is { Count: > 0 } scoresOn)
        {
            // A few single days (the trend's): a seek per account and day, where one range would scan the days between.
            await ReadScoresAsync(connection, dialect, earlierScores, $"account_id IN {inIds} AND day IN @scoresOn",
                new { ids = allIds, scoresOn }, cancellationToken);
        }

        var flags = new Dictionary<string, List<StoredFlag>>(StringComparer.Ordinal);
        if (plan.FlagsFrom is { } flagsFrom)
        {
            foreach (var flag in await connection.QueryAsync<StoredFlag>(new CommandDefinition(
                $"SELECT {StoredFlag.Columns} FROM risk_flags WHERE account_id IN {inIds} AND (cleared_day IS NULL OR cleared_day >= @flagsFrom)",
                new { ids = allIds, flagsFrom }, cancellationToken: cancellationToken)))
            {
                (flags.TryGetValue(flag.AccountId, out var list) ? list : flags[flag.AccountId] = []).Add(flag);
            }
        }

        foreach (var (row, accountFacts) in facts)
        {
            var snapshot = fromSnapshot.GetValueOrDefault(row.AccountId);
            var history = snapshot ?? FreshHistory(row.AccountId);
            result[row.AccountId] = new ScoringInputs(accountFacts, history, row.DirtyVersion)
            {
                LoadedFrom = snapshot is null ? new UsageLoad(plan, loadedNames) : null,
                EarlierScores = earlierScores.GetValueOrDefault(row.AccountId) ?? NoScores,
                Flags = flags.GetValueOrDefault(row.AccountId) ?? [],
                Band = row.Band,
            };
        }
    }

    /// <summary>Adds the stored daily scores of health_daily rows matching <paramref name="where"/> to each account's days.</summary>
    private static async Task ReadScoresAsync(
        DbConnection connection, SqlDialect dialect, Dictionary<string, Dictionary<int, int?>> scores, string where, object args, CancellationToken cancellationToken)
    {
        if (dialect.Provider == StoreProvider.Sqlite)
        {
            // 14 rows per account in a full rescore: packed into one per account, as the users are.
            await using var packed = await connection.ExecuteReaderAsync(new CommandDefinition(
                $"SELECT account_id, group_concat(day || ' ' || COALESCE(score, '-'), ' ') FROM health_daily WHERE {where} GROUP BY account_id",
                args, cancellationToken: cancellationToken));
            while (await packed.ReadAsync(cancellationToken))
            {
                var id = packed.GetString(0);
                PackedRows.ReadScores(packed.GetString(1), scores.TryGetValue(id, out var d) ? d : scores[id] = []);
            }

            return;
        }

        // A plain reader: per-row mapping would show.
        await ReadByAccountAsync(connection, scores, new CommandDefinition(
            $"SELECT account_id, day, score FROM health_daily WHERE {where}", args, cancellationToken: cancellationToken),
            (reader, days) => days[reader.GetInt32(1)] = reader.IsDBNull(2) ? null : reader.GetInt32(2));
    }

    /// <summary>
    /// The key under which a day's events not read by name are summed. Not a valid event name (those have no
    /// spaces or parentheses), so it never collides with one.
    /// </summary>
    internal const string OtherEvents = "(other events)";

    private static readonly IReadOnlyDictionary<string, DateOnly> NoFirstSeen = new Dictionary<string, DateOnly>();

    private static readonly IReadOnlyDictionary<int, int?> NoScores = new Dictionary<int, int?>();

    /// <summary>Adds (account, day, event_name, event_count, quantity) rows to the days (creating them as needed).</summary>
    private static Task ReadNamedAsync(
        DbConnection connection, Dictionary<string, Dictionary<int, Dictionary<string, NameUsage>>> usage, CommandDefinition query) =>
        ReadByAccountAsync(connection, usage, query, (reader, days) =>
        {
            var day = reader.GetInt32(1);
            (days.TryGetValue(day, out var n) ? n : days[day] = new(StringComparer.Ordinal))[reader.GetString(2)] =
                new NameUsage(reader.GetInt64(3), reader.GetDouble(4));
        });

    /// <summary>Adds (account, day, other events, other quantity) rows: one per account and day.</summary>
    private static Task ReadDaysAsync(
        DbConnection connection, Dictionary<string, Dictionary<int, Dictionary<string, NameUsage>>> usage, CommandDefinition query) =>
        ReadByAccountAsync(connection, usage, query, (reader, days) =>
        {
            var names = new Dictionary<string, NameUsage>(StringComparer.Ordinal);
            var events = reader.GetInt64(2);
            if (events > 0)
            {
                names[OtherEvents] = new NameUsage(events, reader.GetDouble(3));
            }

            days[reader.GetInt32(1)] = names;
        });

    /// <summary>
    /// Reads rows whose first column is the account, handing each row to <paramref name="add"/> with that account's
    /// days. Rows come grouped by account, so the account is looked up once per group.
    /// </summary>
    private static async Task ReadByAccountAsync<TDays>(
        DbConnection connection, Dictionary<string, TDays> byAccount, CommandDefinition query, Action<DbDataReader, TDays> add)
        where TDays : class, new()
    {
        await using var reader = await connection.ExecuteReaderAsync(query);
        TDays? days = null;
        string? account = null;
        while (await reader.ReadAsync(query.CancellationToken))
        {
            var id = reader.GetString(0);
            if (id != account)
            {
                account = id;
                days = byAccount.TryGetValue(id, out var d) ? d : byAccount[id] = new TDays();
            }

            add(reader, days!);
        }
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
        public string? ChampionUserId { get; init; }
        public string? Status { get; init; }
        public long? ChurnedAt { get; init; }
        public string? Band { get; init; }

        public byte[]? Snapshot { get; init; }

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
            ChampionUserId = ChampionUserId,
            ChurnedOn = Status == "churned" && ChurnedAt is { } c ? UtcDay.ToDate(UtcDay.Of(DateTimeOffset.FromUnixTimeMilliseconds(c))) : null,
        };
    }
}
