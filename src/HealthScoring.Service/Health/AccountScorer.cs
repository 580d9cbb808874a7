using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Risk;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Risk;
using HealthScoring.Service.Scorecards;

namespace HealthScoring.Service.Health;

/// <summary>
/// One account's recomputed days, and its risk flags from the first of them on: the flags the replay continued,
/// cleared or raised (<see cref="Flags"/>) and those stored before it (<see cref="StoredFlags"/>), which the save
/// reconciles; <see cref="PreviousBand"/> is the band before this computation.
/// </summary>
internal sealed record ScoredAccount(
    ScoringWork Work, IReadOnlyList<HealthResult> Days, IReadOnlyList<RiskEpisode> Flags, IReadOnlyList<StoredFlag> StoredFlags, string? PreviousBand)
{
    public static ScoredAccount Empty(ScoringWork work) => new(work, [], [], [], null);

    /// <summary>The usage snapshot to keep (UsageSnapshot), with the change counter of its load; null when the usage came from one.</summary>
    public (byte[] Data, long DirtyVersion)? UsageSnapshot { get; init; }

    /// <summary>The GET .../health document of the last day (<see cref="HealthDocument"/>, UTF-8), when the scorer rendered it.</summary>
    public byte[]? Document { get; init; }

    /// <summary>The flag writes that reconcile this account's flags (<see cref="RiskFlagWriter.Plan"/>), when the scorer planned them.</summary>
    public FlagChanges? FlagChanges { get; init; }
}

/// <summary>
/// Where a score is computed: loads the inputs of a set of accounts at once and runs the pure engine for every
/// day to (re)compute, each day with the scorecard that applies to the account on that day.
/// </summary>
internal sealed class AccountScorer(HealthRepository health, ScorecardCatalog catalog, ScoringOptions options)
{
    /// <summary>
    /// Scores each account's days up to <paramref name="toDay"/>; with <paramref name="documentsAt"/> (the save's time),
    /// also renders the stored GET document of each account's last day and plans its flag writes, in the parallel
    /// phase, off the save.
    /// </summary>
    public async Task<IReadOnlyList<ScoredAccount>> ScoreAsync(
        IReadOnlyList<ScoringWork> work, int toDay, CancellationToken cancellationToken, DateTimeOffset? documentsAt = null)
    {
        var scorecards = await catalog.CurrentAsync(cancellationToken);
        var plan = Plan(scorecards, work.Min(w => w.FromDay), toDay) with
        {
            ScoresFrom = work.Min(w => w.FromDay) - scorecards.Max(s => RiskRules.ScoreLookbackDays(s.RiskRules)),
            ScoresTo = work.Max(w => w.FromDay) - 1,
            FlagsFrom = work.Min(w => w.FromDay),
            ScoresOn = documentsAt is null ? null : HealthDocument.TrendDays.Select(d => toDay - d).ToArray(),
        };
        var inputs = await health.LoadManyAsync(work.Select(w => w.AccountId).ToList(), plan, cancellationToken);

        var today = Plan(scorecards, toDay, toDay);
        var scored = new ScoredAccount[work.Count];
        Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount, CancellationToken = cancellationToken }, i =>
        {
            var w = work[i];
            if (!inputs.TryGetValue(w.AccountId, out var input))
            {
                scored[i] = ScoredAccount.Empty(w);
                return;
            }

            var account = ScoreDays(scorecards, input, w, toDay);
            scored[i] = account with
            {
                UsageSnapshot = SnapshotOf(input, today),
                Document = documentsAt is { } at ? HealthDocument.Render(account.Days, input.EarlierScores, at) : null,
                FlagChanges = documentsAt is { } now && account.Days.Count > 0
                    ? RiskFlagWriter.Plan(account, UtcDay.Of(now), now.ToUnixTimeMilliseconds()) : null,
            };
        });
        return scored;
    }

    /// <summary>
    /// The usage read from the rows, cut to what scoring <paramref name="today"/>'s day reads: the next day's
    /// rescore takes it from there while the account receives nothing (see UsageSnapshot).
    /// </summary>
    internal static (byte[] Data, long DirtyVersion)? SnapshotOf(ScoringInputs inputs, UsageLoadPlan today)
    {
        if (inputs.LoadedFrom is not { Plan.FoldOtherNames: true } load || load.Plan.ToDay != today.ToDay)
        {
            return null;
        }

        var usage = UsageSnapshot.Trim(inputs.Usage, today.FullFrom, today.NamedFrom, load.Names, inputs.Usage.FirstSeen);
        return (UsageSnapshot.Encode(new UsageSnapshotHeader(today.FullFrom, today.NamedFrom, today.ToDay, load.Names, load.Plan.WithFirstSeen), usage),
            inputs.DirtyVersion);
    }

    /// <summary>One account as of one day, computed on demand (not stored).</summary>
    public async Task<HealthResult?> ScoreAsOfAsync(string accountId, int day, CancellationToken cancellationToken)
    {
        var scored = await ScoreAsync([new ScoringWork(accountId, day, 0)], day, cancellationToken);
        return scored[0].Days.Count == 0 ? null : scored[0].Days[0];
    }

    /// <summary>
    /// Scores each day from the work's first day to <paramref name="toDay"/> and evaluates the risk rules on it,
    /// continuing the flags that were active the day before the first (a replay: back-filled history raises and
    /// clears flags on the days they belong to).
    /// </summary>
    private static ScoredAccount ScoreDays(IReadOnlyList<Scorecard> scorecards, ScoringInputs inputs, ScoringWork work, int toDay)
    {
        var fromDay = work.FromDay;
        var results = new List<HealthResult>(toDay - fromDay + 1);
        // Before the first recomputed day the stored scores, from it on the ones computed so far.
        int? ScoreOn(DateOnly date) => HealthDocument.ScoreOn(UtcDay.FromDate(date), fromDay, results, inputs.EarlierScores);

        var stored = inputs.Flags.Where(f => f.ClearedDay is null || f.ClearedDay >= fromDay).ToList();
        var activeBefore = stored.Where(f => f.RaisedDay < fromDay).Select(f => f.ToEpisode() with { ClearedOn = null }).ToList();
        var days = Enumerable.Range(fromDay, toDay - fromDay + 1).Select(UtcDay.ToDate);
        var flags = RiskTimeline.Replay(activeBefore, days, (asOf, active) =>
        {
            var scorecard = ScorecardSelector.Select(scorecards, inputs.Facts, asOf);
            var result = ScoringEngine.Score(scorecard, inputs.Facts, inputs.Usage, asOf);
            results.Add(result);
            return RiskEvaluator.Evaluate(new RiskContext(scorecard, inputs.Facts, inputs.Usage, result, ScoreOn), active);
        });
        return new ScoredAccount(work, results, flags, stored, inputs.Band);
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

        // The risk rules read every name and the users over their windows (usage decline, seat use, the champion),
        // and the NPS answers over the detractor window.
        names.UnionWith(scorecards.Where(s => RiskRules.Resolve(RiskRules.Detractor, s.RiskRules, s.Bands).Enabled).Select(s => s.NpsEvent));
        var riskFull = scorecards.Max(s => Math.Max(RiskRules.UsageLookbackDays(s.RiskRules), RiskEvaluator.ChampionSearchDays));
        var riskNamed = scorecards.Max(s => RiskRules.Resolve(RiskRules.Detractor, s.RiskRules, s.Bands).WindowDays);

        return new UsageLoadPlan(
            FullFrom: fromDay - Math.Max(riskFull, measures.Select(m => FullLookbackDays(m.Measure)).DefaultIfEmpty(0).Max()),
            NamedFrom: fromDay - Math.Max(riskNamed, scorecards.Max(s => s.Dimensions.SelectMany(d => d.Measures).Select(LookbackDays).DefaultIfEmpty(30).Max())),
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
