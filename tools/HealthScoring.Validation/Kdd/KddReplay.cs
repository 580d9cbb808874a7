using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Validation.Kdd;

/// <summary>A scorecard under test and how the report names it.</summary>
public sealed record NamedScorecard(string Label, Scorecard Scorecard);

/// <summary>
/// One way of ranking enrollments by churn risk: <see cref="Risk"/> is higher for the enrollments it thinks
/// more likely to drop out, so an AUC above 0.5 means it predicts dropout.
/// </summary>
public sealed record Predictor(string Name, string Orientation, IReadOnlyList<double> Risk);

/// <summary>The health scores of one scorecard: null where the engine had no data (counted, scored as 0 for the AUC).</summary>
public sealed record ScorecardRun(NamedScorecard Card, IReadOnlyList<int?> Scores, IReadOnlyList<Band?> Bands, Predictor Predictor)
{
    public int NullScores => Scores.Count(s => s is null);
}

/// <summary>
/// Replays the KDD data through the engine: each enrollment scored as of its window_end, compared by ROC AUC
/// with dropout (the positive class, "churn") next to the single signals computed in the same run.
/// </summary>
public static class KddReplay
{
    /// <summary>
    /// What the replay measures: the shipped default as is, the default with only the configured scorecard's key
    /// features filled in (the one setting the default leaves to each product), and the configured scorecard.
    /// </summary>
    public static IReadOnlyList<NamedScorecard> Scorecards(string label, Scorecard configured)
    {
        var shipped = DefaultScorecard.Create();
        return
        [
            new NamedScorecard("default scorecard", shipped),
            new NamedScorecard("default + key features", shipped with { KeyFeatures = configured.KeyFeatures }),
            new NamedScorecard(label, configured),
        ];
    }

    public static KddReport Run(KddDataset data, IReadOnlyList<NamedScorecard> scorecards)
    {
        var enrollments = data.Enrollments;
        var signals = enrollments.Select(e => KddSignals.Of(e, data.UsageOf(e))).ToArray();

        var runs = scorecards.Select(card =>
        {
            var results = enrollments
                .Select(e => ScoringEngine.Score(card.Scorecard, e.ToFacts(), data.UsageOf(e), e.WindowEnd))
                .ToArray();
            var scores = results.Select(r => r.Score).ToArray();
            // Orientation: a higher health score means lower churn risk, so risk = -score. No score (no usage)
            // is treated as the worst score, 0.
            var risk = scores.Select(s => -(double)(s ?? 0)).ToArray();
            return new ScorecardRun(card, scores, results.Select(r => r.Band).ToArray(),
                new Predictor($"Health score, {card.Label}", "higher score = lower risk; AUC of -score", risk));
        }).ToList();

        var signalPredictors = new[]
        {
            new Predictor("Days since last activity", "more days = higher risk", signals.Select(s => (double)s.DaysSinceLastActivity).ToArray()),
            new Predictor("Active days in the window", "fewer days = higher risk", signals.Select(s => -(double)s.ActiveDays).ToArray()),
            new Predictor("Total events in the window", "fewer events = higher risk", signals.Select(s => -(double)s.TotalEvents).ToArray()),
        };

        return new KddReport(
            enrollments,
            data.ActivityRows,
            data.RowsOutsideWindow,
            signals.Count(s => s.NeverActive),
            enrollments.Where((e, i) => !signals[i].MatchesFile(e)).Count(),
            runs,
            signalPredictors);
    }
}
