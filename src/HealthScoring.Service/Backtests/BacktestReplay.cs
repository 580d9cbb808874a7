using System.Collections.Concurrent;
using System.Data.Common;
using Dapper;
using HealthScoring.Scoring.Backtest;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Health;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Backtests;

/// <summary>The evaluation days of a backtest (UTC day numbers): from, from + step, ... up to <see cref="ToDay"/>.</summary>
internal sealed record BacktestPeriod(int FromDay, int ToDay, int HorizonDays, int StepDays)
{
    public int EvaluationDays => ToDay < FromDay ? 0 : (ToDay - FromDay) / StepDays + 1;
}

/// <summary>A replay's backtest and, when asked for, one calibration sample per observation.</summary>
internal sealed record ReplayOutcome(BacktestResult Backtest, IReadOnlyList<CalibrationSample> Samples);

/// <summary>
/// Replays a scorecard over the stored daily aggregates, as it would have scored each account on each evaluation
/// day, without touching live scores: the same loader and the same pure engine as the live scorer, with this
/// scorecard instead of the live selection. An account is observed from its start (contract start, else first
/// event) until the day before it churned, on the days the scorecard's rule matches it; an observation is
/// labelled churned when the account's churn day falls within the horizon after it.
/// </summary>
internal sealed class BacktestReplay(DbDataSource db, HealthRepository health)
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

    /// <summary>Accounts loaded and replayed together (bounded memory: their whole period of usage is held).</summary>
    private const int ChunkSize = 200;

    /// <summary>The accounts a scorecard's rule can match by segment and plan (age is checked per day), churned before the period excluded.</summary>
    public async Task<IReadOnlyList<string>> AccountsInScopeAsync(Scorecard card, BacktestPeriod period, CancellationToken cancellationToken)
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
        var rule = card.AppliesTo;
        return rows
            .Where(r => rule is null
                || ((rule.Segments.Count == 0 || (r.Segment is { } s && rule.Segments.Contains(s, StringComparer.OrdinalIgnoreCase)))
                    && (rule.Plans.Count == 0 || (r.Plan is { } p && rule.Plans.Contains(p, StringComparer.OrdinalIgnoreCase)))))
            .Select(r => r.AccountId)
            .ToList();
    }

    /// <summary>
    /// Replays <paramref name="card"/> over <paramref name="accounts"/>; <paramref name="withSamples"/> also returns
    /// a calibration sample (raw measure values) for each observation.
    /// </summary>
    public async Task<ReplayOutcome> RunAsync(
        Scorecard card, BacktestPeriod period, IReadOnlyList<string> accounts, bool withSamples, CancellationToken cancellationToken)
    {
        var keys = card.Dimensions.SelectMany(d => d.Measures.Select(m => m.Key)).ToArray();
        var plan = AccountScorer.Plan([card], period.FromDay, period.ToDay);
        var observations = new ConcurrentBag<List<BacktestObservation>>();
        var samples = new ConcurrentBag<List<CalibrationSample>>();
        var churnDays = new ConcurrentDictionary<string, DateOnly>(StringComparer.Ordinal);
        var dailyBands = new ConcurrentDictionary<string, IReadOnlyList<(DateOnly Day, Band? Band)>>(StringComparer.Ordinal);

        var loadWatch = new System.Diagnostics.Stopwatch();
        var replayWatch = new System.Diagnostics.Stopwatch();
        foreach (var chunk in accounts.Chunk(ChunkSize))
        {
            loadWatch.Start();
            var inputs = await health.LoadManyAsync(chunk, plan, cancellationToken);
            loadWatch.Stop();
            replayWatch.Start();
            Parallel.ForEach(inputs.Values, new ParallelOptions { CancellationToken = cancellationToken }, () => (Observations: new List<BacktestObservation>(), Samples: new List<CalibrationSample>()),
                (input, _, local) =>
                {
                    ReplayAccount(card, period, input.Facts, input.Usage, local.Observations, withSamples ? local.Samples : null, churnDays, dailyBands);
                    return local;
                },
                local =>
                {
                    observations.Add(local.Observations);
                    samples.Add(local.Samples);
                });
            replayWatch.Stop();
        }

        Console.Error.WriteLine($"TIMING load {loadWatch.Elapsed.TotalSeconds:0.00} replay {replayWatch.Elapsed.TotalSeconds:0.00}");
        var evalWatch = System.Diagnostics.Stopwatch.StartNew();

        var all = observations.SelectMany(o => o).ToList();
        var result = Backtester.Evaluate(all, keys, churnDays, dailyBands);
        Console.Error.WriteLine($"TIMING evaluate {evalWatch.Elapsed.TotalSeconds:0.00}");
        return new ReplayOutcome(result, samples.SelectMany(s => s).ToList());
    }

    private static void ReplayAccount(
        Scorecard card, BacktestPeriod period, AccountFacts facts, UsageHistory usage,
        List<BacktestObservation> observations, List<CalibrationSample>? samples,
        ConcurrentDictionary<string, DateOnly> churnDays, ConcurrentDictionary<string, IReadOnlyList<(DateOnly, Band?)>> dailyBands)
    {
        var start = facts.StartDate ?? (usage.Days.Count > 0 ? usage.Days[0].Day : null);
        if (start is not { } started)
        {
            return;
        }

        var churn = facts.ChurnedOn;
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
            double?[]? values = samples is null ? null : new double?[scores.Length];
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

            observations.Add(new BacktestObservation(facts.AccountId, day, result.Score, result.Band, scores, churned));
            samples?.Add(new CalibrationSample(values!, facts.AgeDays(day), churned));
        }

        if (churnCounts)
        {
            churnDays[facts.AccountId] = churn!.Value;
            dailyBands[facts.AccountId] = bands!;
        }
    }
}
