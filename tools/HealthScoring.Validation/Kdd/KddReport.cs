using System.Globalization;
using System.Text;
using HealthScoring.Scoring.Engine;

namespace HealthScoring.Validation.Kdd;

/// <summary>AUCs of one course (its enrollments share one window).</summary>
public sealed record CourseSummary(string CourseKey, DateOnly WindowStart, DateOnly WindowEnd, int Enrollments, int Dropouts, IReadOnlyList<double> Auc);

/// <summary>The replay's figures and their Markdown rendering. AUCs are listed in <see cref="Predictors"/> order.</summary>
public sealed class KddReport
{
    private readonly bool[] _labels;

    public KddReport(
        IReadOnlyList<KddEnrollment> enrollments,
        int activityRows,
        int rowsOutsideWindow,
        int neverActive,
        int fileMismatches,
        IReadOnlyList<ScorecardRun> scorecards,
        IReadOnlyList<Predictor> signals)
    {
        Enrollments = enrollments.Count;
        Dropouts = enrollments.Count(e => e.Dropout);
        ActivityRows = activityRows;
        RowsOutsideWindow = rowsOutsideWindow;
        NeverActive = neverActive;
        FileMismatches = fileMismatches;
        Scorecards = scorecards;
        Signals = signals;
        Predictors = [.. scorecards.Select(s => s.Predictor), .. signals];

        _labels = enrollments.Select(e => e.Dropout).ToArray();
        Auc = Predictors.Select(p => RocAuc.Compute(p.Risk, _labels)).ToArray();
        Courses = enrollments
            .Select((e, i) => (e, i))
            .GroupBy(x => x.e.CourseKey, StringComparer.Ordinal)
            .Select(g =>
            {
                var index = g.Select(x => x.i).ToArray();
                var courseLabels = index.Select(i => _labels[i]).ToArray();
                var first = g.First().e;
                return new CourseSummary(g.Key, first.WindowStart, first.WindowEnd, index.Length, courseLabels.Count(l => l),
                    Predictors.Select(p => RocAuc.Compute(index.Select(i => p.Risk[i]).ToArray(), courseLabels)).ToArray());
            })
            .OrderBy(c => c.WindowStart)
            .ThenBy(c => c.CourseKey, StringComparer.Ordinal)
            .ToList();
    }

    public int Enrollments { get; }

    public int Dropouts { get; }

    public double BaseRate => Dropouts / (double)Enrollments;

    public int ActivityRows { get; }

    public int RowsOutsideWindow { get; }

    public int NeverActive { get; }

    public int FileMismatches { get; }

    public IReadOnlyList<ScorecardRun> Scorecards { get; }

    public IReadOnlyList<Predictor> Signals { get; }

    public IReadOnlyList<Predictor> Predictors { get; }

    public IReadOnlyList<double> Auc { get; }

    public IReadOnlyList<CourseSummary> Courses { get; }

    public double AucOf(Predictor predictor) => Auc[IndexOf(predictor)];

    public double BestSignalAuc => Signals.Max(AucOf);

    /// <summary>True when the scorecard's AUC is above every single signal's.</summary>
    public bool BeatsEverySignal(ScorecardRun run) => AucOf(run.Predictor) > BestSignalAuc;

    public string ToMarkdown(string dataPath)
    {
        var md = new StringBuilder();
        md.AppendLine("## KDD Cup 2015 replay: health score as of window_end vs dropout").AppendLine();
        md.AppendLine(Inv($"- Data: `{dataPath}`"));
        md.AppendLine(Inv($"- Enrollments (accounts): {Enrollments:N0}; dropouts: {Dropouts:N0}; base rate: {Percent(BaseRate)}; courses: {Courses.Count}"));
        md.AppendLine(Inv($"- Activity rows: {ActivityRows:N0} ({RowsOutsideWindow} outside their window); enrollments never active in their window: {NeverActive}; rebuilt totals differing from enrollments.csv: {FileMismatches}"));
        md.AppendLine("- AUC: positive class = dropout (churn); every predictor is oriented as a risk, so AUC > 0.5 means it predicts dropout. "
            + "Score AUCs are of -score (a higher health score means lower risk). Rank-sum formula, ties at their average rank.");
        foreach (var run in Scorecards)
        {
            md.AppendLine(Inv($"- {run.Card.Label}: enrollments with no score (no usage): {run.NullScores}, counted as score 0 (the worst) for the AUC"));
        }

        md.AppendLine().AppendLine("| Predictor (as of window_end) | Orientation | AUC |").AppendLine("|---|---|---:|");
        foreach (var p in Predictors)
        {
            md.AppendLine(Inv($"| {p.Name} | {p.Orientation} | {Fmt(AucOf(p))} |"));
        }

        md.AppendLine();
        foreach (var run in Scorecards)
        {
            var verdict = BeatsEverySignal(run) ? "beats" : "does NOT beat";
            md.AppendLine(Inv($"- {run.Card.Label} {verdict} every single signal ({Fmt(AucOf(run.Predictor))} vs best signal {Fmt(BestSignalAuc)})."));
        }

        md.AppendLine().AppendLine("### AUC per course").AppendLine();
        md.AppendLine("| Course | Window | Enrollments | Dropout rate | " + string.Join(" | ", Predictors.Select(ShortName)) + " |");
        md.AppendLine("|---|---|---:|---:|" + string.Concat(Predictors.Select(_ => "---:|")));
        foreach (var c in Courses)
        {
            var aucs = string.Join(" | ", c.Auc.Select(Fmt));
            md.AppendLine(Inv($"| {c.CourseKey} | {c.WindowStart:yyyy-MM-dd}..{c.WindowEnd:yyyy-MM-dd} | {c.Enrollments:N0} | {Percent(c.Dropouts / (double)c.Enrollments)} | {aucs} |"));
        }

        md.AppendLine().AppendLine("### Dropout rate per health band").AppendLine();
        md.AppendLine("| Scorecard | Band | Enrollments | Dropout rate |").AppendLine("|---|---|---:|---:|");
        foreach (var run in Scorecards)
        {
            foreach (var band in new Band?[] { Band.Red, Band.Yellow, Band.Green, null })
            {
                var members = run.Bands.Select((b, i) => (b, i)).Where(x => x.b == band).Select(x => x.i).ToArray();
                if (band is null && members.Length == 0)
                {
                    continue;
                }

                var rate = members.Length == 0 ? "n/a" : Percent(members.Count(i => _labels[i]) / (double)members.Length);
                md.AppendLine(Inv($"| {run.Card.Label} | {band?.ToString() ?? "no score"} | {members.Length:N0} | {rate} |"));
            }
        }

        return md.ToString();
    }

    private int IndexOf(Predictor predictor)
    {
        for (var i = 0; i < Predictors.Count; i++)
        {
            if (ReferenceEquals(Predictors[i], predictor))
            {
                return i;
            }
        }

        throw new ArgumentException("Not a predictor of this report.", nameof(predictor));
    }

    private string ShortName(Predictor p) => Scorecards.FirstOrDefault(s => ReferenceEquals(s.Predictor, p))?.Card.Label ?? p.Name;

    private static string Fmt(double auc) => double.IsNaN(auc) ? "n/a" : auc.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Percent(double share) => (100 * share).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
