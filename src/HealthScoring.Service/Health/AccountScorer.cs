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
        var plan = Plan(scorecards, work.Min(w => w.FromDay), toDay);
        var inputs = await health.LoadManyAsync(work.Select(w => w.AccountId).ToList(), plan, cancellationToken);

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

    /// <summary>
    /// Which usage rows the scorecards read when scoring <paramref name="fromDay"/>..<paramref name="toDay"/>.
    /// Most measures read every event name over short windows (about 30 days); the long-window ones (NPS, goals,
    /// named events, key features) read a few event names over up to 365 days. Loading only those rows keeps
    /// the engine's view identical for every measure while a full rescore reads about a third of the rows.
    /// </summary>
    internal static UsageLoadPlan Plan(IReadOnlyList<Scorecard> scorecards, int fromDay, int toDay)
    {
        var measures = scorecards.SelectMany(s => s.Dimensions.SelectMany(d => d.Measures.Select(m => (Scorecard: s, Measure: m)))).ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (scorecard, measure) in measures)
        {
            switch (measure.Metric)
            {
                case MetricNames.Nps:
                    names.Add(scorecard.NpsEvent);
                    break;
                case MetricNames.FeatureBreadth:
                    names.UnionWith(scorecard.KeyFeatures);
                    break;
                case MetricNames.EventCount or MetricNames.Quantity when measure.EventName is { } name:
                    names.Add(name);
                    break;
            }
        }

        return new UsageLoadPlan(
            FullFrom: fromDay - measures.Select(m => FullLookbackDays(m.Measure)).DefaultIfEmpty(0).Max(),
            NamedFrom: fromDay - scorecards.Max(s => s.Dimensions.SelectMany(d => d.Measures).Select(LookbackDays).DefaultIfEmpty(30).Max()),
            ToDay: toDay,
            EventNames: names,
            GoalNames: measures.Any(m => m.Measure.Metric == MetricNames.GoalAttainment),
            WithFirstSeen: scorecards.Any(s => s.OnboardingMilestones.Count > 0),
            FoldOtherNames: !measures.Any(m => m.Measure is { Metric: MetricNames.Quantity, EventName: null }));
    }

    /// <summary>How many days before a scored day a measure reads (usage trend reads two windows, goals up to 365).</summary>
    private static int LookbackDays(MeasureDefinition measure) => measure.Metric switch
    {
        MetricNames.UsageTrend => 2 * measure.WindowDays,
        MetricNames.GoalAttainment => 365,
        _ => measure.WindowDays,
    };

    /// <summary>
    /// How many days before a scored day a measure reads every event name and the active users; 0 for
    /// measures that read only named events (loaded over <see cref="LookbackDays"/>), days since last
    /// activity (served by the last active day before the window, see <see cref="UsageLoadPlan"/>) and
    /// onboarding milestones (first-seen days, loaded apart).
    /// </summary>
    private static int FullLookbackDays(MeasureDefinition measure) => measure.Metric switch
    {
        MetricNames.UsageTrend => 2 * measure.WindowDays,
        MetricNames.Nps or MetricNames.GoalAttainment or MetricNames.FeatureBreadth
            or MetricNames.DaysSinceLastActivity or MetricNames.OnboardingMilestones => 0,
        MetricNames.EventCount or MetricNames.Quantity when measure.EventName is not null => 0,
        _ => measure.WindowDays,
    };
}
