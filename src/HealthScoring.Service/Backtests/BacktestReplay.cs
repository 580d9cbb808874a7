using System.Collections.Concurrent;
using System.Data.Common;
using Dapper;
using HealthScoring.Scoring.Backtest;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Health;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Backtests;

/// <summary>The evaluation days of a backtest (UTC day numbers): from, from + step, ... up to <see cref="ToDay"/>.</summary>
internal sealed record BacktestPeriod(int FromDay, int ToDay, int HorizonDays, int StepDays)
{
    public int EvaluationDays => ToDay < FromDay ? 0 : (ToDay - FromDay) / StepDays + 1;
}

/// <summary>A replay's backtest and, when asked for, its calibration samples (see <see cref="BacktestReplay.RunAsync"/>).</summary>
internal sealed record ReplayOutcome(BacktestResult Backtest, IReadOnlyList<CalibrationSample> Samples);

/// <summary>
/// The observations of a backtest, two ways. <see cref="RunStoredAsync"/> reads the live scorecard's stored daily
/// snapshots (what the service said each day, with each measure's score). <see cref="RunAsync"/> replays any
/// scorecard version over the stored daily aggregates, as it would have scored each account on each evaluation
/// day, without touching live scores: the same loader and the same pure engine as the live scorer, with this
/// scorecard instead of the live selection. Either way an account is observed until the day before it churned,
/// and an observation is labelled churned when the account's churn day falls within the horizon after it.
/// </summary>
internal sealed class BacktestReplay(DbDataSource db, SqlDialect dialect, HealthRepository health, ScorecardRepository scorecards)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>One replay at a time (each uses every core): <see cref="Gate.Entered"/> is false while another runs.</summary>
    public async Task<Gate> EnterAsync(CancellationToken cancellationToken) => new(_gate, await _gate.WaitAsync(TimeSpan.Zero, cancellationToken));

    public readonly record struct Gate(SemaphoreSlim Semaphore, bool Entered) : IDisposable
    {
        public void Dispose()
        {
            if (Entered)
            {
                Semaphore.Release();
            }
        }
    }

    /// <summary>Calibration samples kept at most (about; the calibrator thins them further): bounds the memory of a calibration.</summary>
    public const int MaxSamples = 250_000;

    /// <summary>Accounts loaded and replayed together (bounded memory: their whole period of usage is held).</summary>
    private const int ChunkSize = 200;

    /// <summary>
    /// The accounts a scorecard's rule can match by segment and plan (age is checked per day; every account when
    /// <paramref name="byRule"/> is false), churned before the period excluded.
    /// </summary>
    public async Task<IReadOnlyList<string>> AccountsInScopeAsync(Scorecard card, BacktestPeriod period, bool byRule, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string AccountId, string? Segment, string? Plan)>(new CommandDefinition(
            """
            SELECT account_id, segment, plan_name FROM accounts
            WHERE (status <> 'churned' OR churned_at IS NULL OR churned_at >= @fromMs)
              AND (first_event_at IS NULL OR first_event_at < @toMs)
            ORDER BY account_id
            """,
            new { fromMs = (long)period.FromDay * 86_400_000, toMs = ((long)period.ToDay + 1) * 86_400_000 }, cancellationToken: cancellationToken));
        var rule = byRule ? card.AppliesTo : null;
        return rows
            .Where(r => rule is null
                || ((rule.Segments.Count == 0 || (r.Segment is { } s && rule.Segments.Contains(s, StringComparer.OrdinalIgnoreCase)))
                    && (rule.Plans.Count == 0 || (r.Plan is { } p && rule.Plans.Contains(p, StringComparer.OrdinalIgnoreCase)))))
            .Select(r => r.AccountId)
            .ToList();
    }

    /// <summary>
    /// Replays <paramref name="card"/> over <paramref name="accounts"/>; <paramref name="withSamples"/> also returns
    /// calibration samples (raw measure values): one per observation, or an even, deterministic share of them
    /// (by account and day) when there would be more than <see cref="MaxSamples"/>.
    /// </summary>
    public async Task<ReplayOutcome> RunAsync(
        Scorecard card, BacktestPeriod period, IReadOnlyList<string> accounts, bool withSamples, CancellationToken cancellationToken)
    {
        var keys = card.Dimensions.SelectMany(d => d.Measures.Select(m => m.Key)).ToArray();
        var plan = AccountScorer.Plan([card], period.FromDay, period.ToDay);
        var total = new BacktestAccumulator();
        var samples = new List<CalibrationSample>();
        var sampleEvery = withSamples ? (int)Math.Max(1, (long)accounts.Count * period.EvaluationDays / MaxSamples) : 0;
        foreach (var chunk in accounts.Chunk(ChunkSize))
        {
            var inputs = await health.LoadManyAsync(chunk, plan, cancellationToken);
            Parallel.ForEach(inputs.Values, new ParallelOptions { CancellationToken = cancellationToken }, () => (Figures: new BacktestAccumulator(), Samples: new List<CalibrationSample>()),
                (input, _, local) =>
                {
                    ReplayAccount(card, period, input.Facts, input.Usage, local.Figures, withSamples ? local.Samples : null, sampleEvery);
                    return local;
                },
                local =>
                {
                    lock (total)
                    {
                        total.Merge(local.Figures);
                        samples.AddRange(local.Samples);
                    }
                });
        }

        return new ReplayOutcome(total.Result(keys), samples);
    }

    /// <summary>
    /// The stored daily snapshots of <paramref name="live"/>'s id over the period (each day as the version then in
    /// force scored it), read in parallel chunks of accounts; measure scores are matched by key across versions.
    /// </summary>
    public async Task<BacktestResult> RunStoredAsync(Scorecard live, BacktestPeriod period, IReadOnlyList<string> accounts, CancellationToken cancellationToken)
    {
        var keys = live.Dimensions.SelectMany(d => d.Measures.Select(m => m.Key)).ToList();
        var positions = new ConcurrentDictionary<int, int[]>();
        positions[live.Version] = Enumerable.Range(0, keys.Count).ToArray();
        var chunks = accounts.Chunk(500).ToList();
        var workers = Math.Min(2, chunks.Count);
        var parts = await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var part = new BacktestAccumulator();
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            for (var i = worker; i < chunks.Count; i += workers)
            {
                await ReadStoredChunkAsync(connection, live.Id, chunks[i], period, keys, positions, part, cancellationToken);
            }

            return part;
        }, cancellationToken)));

        for (var i = 1; i < parts.Length; i++)
        {
            parts[0].Merge(parts[i]);
        }

        // Every reader is done: the keys (the live version's, then any only earlier versions had) are final.
        return parts[0].Result(keys);
    }

    private async Task ReadStoredChunkAsync(
        DbConnection connection, string scorecardId, string[] chunk, BacktestPeriod period, List<string> keys,
        ConcurrentDictionary<int, int[]> positions, BacktestAccumulator part, CancellationToken cancellationToken)
    {
        var churns = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        foreach (var (accountId, churnedAt) in await connection.QueryAsync<(string, long)>(new CommandDefinition(
            $"SELECT account_id, churned_at FROM accounts WHERE account_id IN {dialect.InList("@ids")} AND status = 'churned' AND churned_at IS NOT NULL",
            new { ids = dialect.Keys(chunk) }, cancellationToken: cancellationToken)))
        {
            churns[accountId] = UtcDay.ToDate(UtcDay.Of(DateTimeOffset.FromUnixTimeMilliseconds(churnedAt)));
        }

        var from = UtcDay.ToDate(period.FromDay);
        var to = UtcDay.ToDate(period.ToDay);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            $"""
            SELECT account_id, day, score, band, scorecard_version, measure_scores FROM health_daily
            WHERE account_id IN {dialect.InList("@ids")} AND day >= @fromDay AND day <= @toDay AND scorecard_id = @scorecardId
            ORDER BY account_id, day
            """, new { ids = dialect.Keys(chunk), fromDay = period.FromDay, toDay = period.ToDay, scorecardId }, cancellationToken: cancellationToken));
        string? account = null;
        DateOnly? churn = null;
        List<(DateOnly, Band?)>? bands = null;
        var scores = new float[keys.Count];
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetString(0);
            if (id != account)
            {
                if (bands is not null)
                {
                    part.AddChurn(churn!.Value, bands);
                }

                account = id;
                churn = churns.TryGetValue(id, out var c) && c > from && c <= to.AddDays(period.HorizonDays) ? c : null;
                bands = churn is null ? null : [];
                if (churn is null && churns.TryGetValue(id, out var before) && before <= from)
                {
                    churn = before;
                }
            }

            var day = UtcDay.ToDate(reader.GetInt32(1));
            if (churn is { } churnDay && day >= churnDay)
            {
                continue;
            }

            int? score = reader.IsDBNull(2) ? null : reader.GetInt32(2);
            Band? band = reader.IsDBNull(3) ? null : reader.GetString(3) switch
            {
                "red" => Band.Red,
                "yellow" => Band.Yellow,
                "green" => Band.Green,
                var other => Enum.Parse<Band>(other, ignoreCase: true),
            };
            bands?.Add((day, band));
            if ((day.DayNumber - from.DayNumber) % period.StepDays != 0)
            {
                continue;
            }

            var version = reader.GetInt32(4);
            var map = positions.TryGetValue(version, out var known) ? known : await PositionsAsync(scorecardId, version, keys, positions, cancellationToken);
            var width = map.Length == 0 ? keys.Count : Math.Max(keys.Count, map.Max() + 1);
            if (scores.Length < width)
            {
                scores = new float[width];
            }

            if (!reader.IsDBNull(5))
            {
                MeasureScores.Decode(reader.GetString(5), map, scores);
            }
            else
            {
                Array.Fill(scores, float.NaN);
            }

            var churned = churn is { } ch && ch > day && ch.DayNumber - day.DayNumber <= period.HorizonDays;
            part.Add(id, score, band, scores.AsSpan(0, width), churned);
        }

        if (bands is not null)
        {
            part.AddChurn(churn!.Value, bands);
        }
    }

    /// <summary>Where each measure of an earlier version goes among the keys (a key the live version lacks is appended).</summary>
    private async Task<int[]> PositionsAsync(string scorecardId, int version, List<string> keys, ConcurrentDictionary<int, int[]> positions, CancellationToken cancellationToken)
    {
        var card = (await scorecards.GetAsync(scorecardId, version, cancellationToken))?.Scorecard;
        var measures = card?.Dimensions.SelectMany(d => d.Measures.Select(m => m.Key)).ToList() ?? [];
        lock (keys)
        {
            return positions.GetOrAdd(version, _ => measures.Select(key =>
            {
                var index = keys.IndexOf(key);
                if (index < 0)
                {
                    keys.Add(key);
                    index = keys.Count - 1;
                }

                return index;
            }).ToArray());
        }
    }

    private static void ReplayAccount(
        Scorecard card, BacktestPeriod period, AccountFacts facts, UsageHistory usage, BacktestAccumulator figures, List<CalibrationSample>? samples,
        int sampleEvery = 1)
    {
        var start = facts.StartDate ?? (usage.Days.Count > 0 ? usage.Days[0].Day : null);
        if (start is not { } started)
        {
            return;
        }

        var churn = facts.ChurnedOn;
        // A stable (not per-process randomised) hash: which observations are sampled is the same on every run.
        var accountSalt = samples is null ? 0
            : (int)(BitConverter.ToUInt32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(facts.AccountId)), 0) % 1_000_000);
        var from = UtcDay.ToDate(period.FromDay);
        var to = UtcDay.ToDate(period.ToDay);
        // Churns the period can see: after its first day, at most a horizon after its last.
        var churnCounts = churn is { } c && c > from && c <= to.AddDays(period.HorizonDays);
        var bands = churnCounts ? new List<(DateOnly, Band?)>() : null;
        var firstDay = started > from ? started : from;
        var lastDay = churn is { } end && end.AddDays(-1) < to ? end.AddDays(-1) : to;

        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            var evaluated = (day.DayNumber - from.DayNumber) % period.StepDays == 0
                && (card.AppliesTo is not { } rule || ScorecardSelector.Matches(rule, facts, day));
            if (!evaluated && bands is null)
            {
                // Only evaluation days are scored, except for churners (their daily band gives the lead time).
                day = day.AddDays(period.StepDays - 1 - (day.DayNumber - from.DayNumber) % period.StepDays);
                continue;
            }

            var result = ScoringEngine.Score(card, facts, usage, day);
            bands?.Add((day, result.Band));
            if (!evaluated)
            {
                continue;
            }

            var churned = churn is { } ch && ch > day && ch.DayNumber - day.DayNumber <= period.HorizonDays;
            var scores = new float[result.Dimensions.Sum(d => d.Measures.Count)];
            var sampled = samples is not null && (day.DayNumber / period.StepDays + accountSalt) % sampleEvery == 0;
            double?[]? values = sampled ? new double?[scores.Length] : null;
            var k = 0;
            foreach (var measure in result.Dimensions.SelectMany(d => d.Measures))
            {
                scores[k] = measure.Score is { } s ? (float)s : float.NaN;
                if (values is not null)
                {
                    values[k] = measure.Value;
                }

                k++;
            }

            figures.Add(facts.AccountId, result.Score, result.Band, scores, churned);
            if (sampled)
            {
                samples!.Add(new CalibrationSample(values!, facts.AgeDays(day), churned));
            }
        }

        if (churnCounts)
        {
            figures.AddChurn(churn!.Value, bands!);
        }
    }
}
