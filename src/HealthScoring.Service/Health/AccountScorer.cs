using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Scorecards;

namespace HealthScoring.Service.Health;

/// <summary>
/// Where a score is computed: loads an account's inputs once and runs the pure engine for every day to
/// (re)compute, each day with the scorecard that applies to the account on that day.
/// </summary>
internal sealed class AccountScorer(HealthRepository health, ScorecardCatalog catalog)
{
    public async Task<IReadOnlyList<HealthResult>> ScoreDaysAsync(ScoringWork work, int toDay, CancellationToken cancellationToken)
    {
        var scorecards = await catalog.CurrentAsync(cancellationToken);
        var lookback = scorecards.Max(LookbackDays);
        var withFirstSeen = scorecards.Any(s => s.OnboardingMilestones.Count > 0);
        var inputs = await health.LoadAsync(work.AccountId, work.FromDay - lookback, toDay, withFirstSeen, cancellationToken);
        if (inputs is null)
        {
            return [];
        }

        var results = new List<HealthResult>(toDay - work.FromDay + 1);
        for (var day = work.FromDay; day <= toDay; day++)
        {
            var asOf = UtcDay.ToDate(day);
            var scorecard = ScorecardSelector.Select(scorecards, inputs.Facts, asOf);
            results.Add(ScoringEngine.Score(scorecard, inputs.Facts, inputs.Usage, asOf));
        }

        return results;
    }

    /// <summary>One account as of one past day, computed on demand (not stored).</summary>
    public async Task<HealthResult?> ScoreAsOfAsync(string accountId, int day, CancellationToken cancellationToken)
    {
        var results = await ScoreDaysAsync(new ScoringWork(accountId, day, 0), day, cancellationToken);
        return results.Count == 0 ? null : results[0];
    }

    /// <summary>How many days before a scored day a scorecard reads (usage trend reads two windows).</summary>
    private static int LookbackDays(Scorecard scorecard) =>
        scorecard.Dimensions.SelectMany(d => d.Measures)
            .Select(m => m.Metric == MetricNames.UsageTrend ? 2 * m.WindowDays : m.Metric == MetricNames.GoalAttainment ? 365 : m.WindowDays)
            .DefaultIfEmpty(30)
            .Max();
}
