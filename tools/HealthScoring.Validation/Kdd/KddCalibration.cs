using System.Globalization;
using System.Text;
using HealthScoring.Scoring.Backtest;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Validation.Kdd;

/// <summary>A scorecard's or a single signal's AUC on the courses a calibration did not see.</summary>
public sealed record HeldOutAuc(string Predictor, double? Auc);

/// <summary>One calibration: fitted on some courses, judged on the others.</summary>
public sealed record KddCalibrationRun(
    IReadOnlyList<string> FitCourses,
    IReadOnlyList<string> TestCourses,
    int FitEnrollments,
    int TestEnrollments,
    CalibrationResult Calibration,
    BacktestResult Proposed,
    IReadOnlyList<HeldOutAuc> TestAucs)
{
    public double? AucOf(string predictor) => TestAucs.Single(a => a.Predictor == predictor).Auc;
}

/// <summary>
/// Issue 7's validation on real data: calibrate a scorecard of candidate measures on half of the courses (the
/// service's <see cref="Calibrator"/>, the service's sample shape: raw measure values as of window_end, labelled
/// by dropout), then backtest the proposal (the service's <see cref="Backtester"/>) on the other half next to the
/// shipped default, the hand-tuned scorecard and the single signals. Both directions: earlier courses to later
/// ones and back.
/// </summary>
public static class KddCalibration
{
    public const string Proposal = "calibrated proposal";
    public const string Candidates = "candidate measures, before calibration";
    public const string Default = "default scorecard";

    public static IReadOnlyList<KddCalibrationRun> Run(KddDataset data, Scorecard candidates, NamedScorecard configured)
    {
        var courses = data.Enrollments
            .GroupBy(e => e.CourseKey, StringComparer.Ordinal)
            .OrderBy(g => g.Min(e => e.WindowStart)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key)
            .ToList();
        var earlier = courses.Take(courses.Count / 2).ToList();
        var later = courses.Skip(courses.Count / 2).ToList();
        return [Calibrate(data, candidates, configured, earlier, later), Calibrate(data, candidates, configured, later, earlier)];
    }

    private static KddCalibrationRun Calibrate(KddDataset data, Scorecard candidates, NamedScorecard configured, IReadOnlyList<string> fitCourses, IReadOnlyList<string> testCourses)
    {
        var fit = data.Enrollments.Where(e => fitCourses.Contains(e.CourseKey)).ToList();
        var test = data.Enrollments.Where(e => testCourses.Contains(e.CourseKey)).ToList();

        var samples = fit.Select(e =>
        {
            var result = ScoringEngine.Score(candidates, e.ToFacts(), data.UsageOf(e), e.WindowEnd);
            return new CalibrationSample(result.Dimensions.SelectMany(d => d.Measures).Select(m => m.Value).ToArray(), e.ToFacts().AgeDays(e.WindowEnd), e.Dropout);
        }).ToList();
        var calibration = Calibrator.Calibrate(candidates, samples);

        var cards = new (string Label, Scorecard Card)[]
        {
            (Default, DefaultScorecard.Create()),
            (configured.Label, configured.Scorecard),
            (Candidates, candidates),
            (Proposal, calibration.Proposed),
        };
        var backtests = cards.Select(c => (c.Label, Result: Backtest(data, test, c.Card))).ToList();
        var signals = test.Select(e => KddSignals.Of(e, data.UsageOf(e))).ToList();
        var labels = test.Select(e => e.Dropout).ToList();
        var aucs = backtests.Select(b => new HeldOutAuc(b.Label, b.Result.Auc))
            .Append(new HeldOutAuc("Days since last activity", Backtester.Auc(signals.Select(s => (double)s.DaysSinceLastActivity).ToList(), labels)))
            .Append(new HeldOutAuc("Active days in the window", Backtester.Auc(signals.Select(s => -(double)s.ActiveDays).ToList(), labels)))
            .Append(new HeldOutAuc("Total events in the window", Backtester.Auc(signals.Select(s => -(double)s.TotalEvents).ToList(), labels)))
            .ToList();
        return new KddCalibrationRun(fitCourses, testCourses, fit.Count, test.Count, calibration, backtests.Single(b => b.Label == Proposal).Result, aucs);
    }

    /// <summary>One observation per enrollment, as of window_end, labelled by dropout: the service's backtest arithmetic.</summary>
    private static BacktestResult Backtest(KddDataset data, IReadOnlyList<KddEnrollment> enrollments, Scorecard card)
    {
        var keys = card.Dimensions.SelectMany(d => d.Measures.Select(m => m.Key)).ToList();
        var observations = enrollments.Select(e =>
        {
            var result = ScoringEngine.Score(card, e.ToFacts(), data.UsageOf(e), e.WindowEnd);
            var scores = result.Dimensions.SelectMany(d => d.Measures).Select(m => m.Score is { } s ? (float)s : float.NaN).ToArray();
            return new BacktestObservation(e.EnrollmentId, e.WindowEnd, result.Score, result.Band, scores, e.Dropout);
        }).ToList();
        return Backtester.Evaluate(observations, keys, new Dictionary<string, DateOnly>(), new Dictionary<string, IReadOnlyList<(DateOnly, Band?)>>());
    }

    public static string ToMarkdown(IReadOnlyList<KddCalibrationRun> runs, string candidatesFile)
    {
        var md = new StringBuilder();
        var predictors = runs[0].TestAucs.Select(a => a.Predictor).ToList();
        md.AppendLine(CultureInfo.InvariantCulture, $"### Calibration: fitted on some courses, judged on the others");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Starting point: `{candidatesFile}` ({runs[0].Calibration.Proposed.Dimensions.Sum(d => d.Measures.Count)} candidate measures at equal weights). AUCs on the courses each calibration did not see:");
        md.AppendLine();
        md.Append("| Predictor |");
        foreach (var run in runs)
        {
            md.Append(CultureInfo.InvariantCulture, $" fit {string.Join("+", run.FitCourses)} ({run.FitEnrollments:N0}), test {string.Join("+", run.TestCourses)} ({run.TestEnrollments:N0}) |");
        }

        md.AppendLine();
        md.AppendLine("|---|" + string.Concat(runs.Select(_ => "---:|")));
        foreach (var predictor in predictors)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {predictor} |");
            foreach (var run in runs)
            {
                md.Append(CultureInfo.InvariantCulture, $" {Format(run.AucOf(predictor))} |");
            }

            md.AppendLine();
        }

        md.Append("| (fit: AUC before / after, on the fitted courses) |");
        foreach (var run in runs)
        {
            md.Append(CultureInfo.InvariantCulture, $" {Format(run.Calibration.FittedAucCurrent)} / {Format(run.Calibration.FittedAucProposed)} |");
        }

        md.AppendLine();
        foreach (var run in runs)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Proposal fitted on {string.Join(", ", run.FitCourses)}: on the other courses red churn rate {Rate(run.Proposed, "red")}, green {Rate(run.Proposed, "green")}, lift {Format(run.Proposed.LiftRedOverGreen, "0.0")}. Measures by effective weight (weight of dimension x weight within it):");
            md.AppendLine();
            var card = run.Calibration.Proposed;
            var total = card.Dimensions.Where(d => d.Key is DimensionKeys.Engagement or DimensionKeys.Adoption).Sum(d => d.Weight);
            var measures = card.Dimensions.Where(d => d.Key is DimensionKeys.Engagement or DimensionKeys.Adoption)
                .SelectMany(d => d.Measures.Select(m => (m, Share: d.Weight / total * m.Weight / d.Measures.Sum(x => x.Weight))))
                .OrderByDescending(x => x.Share).Take(8);
            md.AppendLine(string.Join("; ", measures.Select(x => string.Create(CultureInfo.InvariantCulture,
                $"`{x.m.Key}` {x.Share:P0} ({Describe(x.m.Scoring)})"))));
        }

        return md.ToString();
    }

    private static string Describe(ScoringFunction scoring) => scoring.Type == ScoringFunction.Linear
        ? string.Create(CultureInfo.InvariantCulture, $"linear {scoring.ZeroAt:0.##}..{scoring.FullAt:0.##}")
        : "bands " + string.Join(" ", scoring.Bands.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.From:0.##}:{b.Score:0}")));

    private static string Rate(BacktestResult result, string band) =>
        result.Bands.Single(b => b.Band == band).ChurnRate is { } r ? r.ToString("P1", CultureInfo.InvariantCulture) : "n/a";

    private static string Format(double? value, string format = "0.000") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}
