using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Scorecards;

namespace HealthScoring.Service.Health;

/// <summary>
/// Where a score is computed: loads the inputs of a set of accounts at once and runs the pure engine for every
/// day to (re)compute, each day with the scorecard that applies to the account on that day.
/// </summary>
internal sealed class AccountScorer(HealthRepository health, ScorecardCatalog catalog, ScoringOptions options)
{
    public async Task<IReadOnlyList<(ScoringWork Work, IReadOnlyList<HealthResult> Days)>> ScoreAsync(
        IReadOnlyList<ScoringWork> work, int toDay, CancellationToken cancellationToken)
    {
        var scorecards = await catalog.CurrentAsync(cancellationToken);
        var lookback = scorecards.Max(LookbackDays);
        var withFirstSeen = scorecards.Any(s => s.OnboardingMilestones.Count > 0);
        var inputs = await health.LoadManyAsync(work.Select(w => w.AccountId).ToList(), work.Min(w => w.FromDay) - lookback, toDay, withFirstSeen, cancellationToken);

        var scored = new (ScoringWork, IReadOnlyList<HealthResult>)[work.Count];
        Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount, CancellationToken = cancellationToken }, i =>
        {
            var w = work[i];
            scored[i] = (w, inputs.TryGetValue(w.AccountId, out var input) ? ScoreDays(scorecards, input, w.FromDay, toDay) : []);
        });
        return scored;
    }

    /// <summary>One account as of one day, computed on demand (not stored).</summary>
    public async Task<HealthResult?> ScoreAsOfAsync(string accountId, int day, CancellationToken cancellationToken)
    {
        var scored = await ScoreAsync([new ScoringWork(accountId, day, 0)], day, cancellationToken);
        return scored[0].Days.Count == 0 ? null : scored[0].Days[0];
    }

    private static List<HealthResult> ScoreDays(IReadOnlyList<Scorecard> scorecards, ScoringInputs inputs, int fromDay, int toDay)
    {
        var results = new List<HealthResult>(toDay - fromDay + 1);
        for (var day = fromDay; day <= toDay; day++)
        {
            var asOf = UtcDay.ToDate(day);
            results.Add(ScoringEngine.Score(ScorecardSelector.Select(scorecards, inputs.Facts, asOf), inputs.Facts, inputs.Usage, asOf));
        }

        return results;
    }

    /// <summary>How many days before a scored day a scorecard reads (usage trend reads two windows, goals up to 365).</summary>
    private static int LookbackDays(Scorecard scorecard) =>
        scorecard.Dimensions.SelectMany(d => d.Measures)
            .Select(m => m.Metric switch
            {
                MetricNames.UsageTrend => 2 * m.WindowDays,
                MetricNames.GoalAttainment => 365,
                _ => m.WindowDays,
            })
            .DefaultIfEmpty(30)
            .Max();
}
