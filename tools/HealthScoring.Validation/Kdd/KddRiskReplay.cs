using System.Globalization;
using System.Text;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Risk;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Validation.Kdd;

/// <summary>How well one rule (or "any high-severity flag") picks out dropouts at window_end.</summary>
public sealed record RiskRuleFigures(string Rule, string Severity, int Flagged, int FlaggedDropouts, int Dropouts)
{
    /// <summary>Share of dropouts flagged; NaN without dropouts.</summary>
    public double Recall => Dropouts == 0 ? double.NaN : FlaggedDropouts / (double)Dropouts;

    /// <summary>Share of flagged enrollments that dropped out; NaN when nothing was flagged.</summary>
    public double Precision => Flagged == 0 ? double.NaN : FlaggedDropouts / (double)Flagged;
}

/// <summary>
/// Replays every enrollment day by day from window_start to window_end, exactly as the service's scorer does (the
/// engine's score for each day, then the risk rules with the flags active the day before), and reads the flags
/// active at window_end against the dropout label.
/// </summary>
public static class KddRiskReplay
{
    public const string AnyHigh = "any high-severity flag";

    public static IReadOnlyList<RiskRuleFigures> Run(KddDataset data, Scorecard scorecard)
    {
        var enrollments = data.Enrollments;
        var active = new IReadOnlyList<RiskEpisode>[enrollments.Count];
        Parallel.For(0, enrollments.Count, i =>
        {
            var e = enrollments[i];
            var facts = e.ToFacts();
            var usage = data.UsageOf(e);
            var scores = new Dictionary<DateOnly, int?>();
            var days = Enumerable.Range(0, e.WindowDays).Select(d => e.WindowStart.AddDays(d));
            active[i] = RiskTimeline.Replay([], days, (day, activeBefore) =>
            {
                var result = ScoringEngine.Score(scorecard, facts, usage, day);
                scores[day] = result.Score;
                return RiskEvaluator.Evaluate(new RiskContext(scorecard, facts, usage, result, d => scores.GetValueOrDefault(d)), activeBefore);
            }).Where(f => f.IsActive).ToList();
        });

        var dropouts = enrollments.Count(e => e.Dropout);
        RiskRuleFigures Figures(string rule, string severity, Func<IReadOnlyList<RiskEpisode>, bool> flagged)
        {
            var members = Enumerable.Range(0, enrollments.Count).Where(i => flagged(active[i])).ToList();
            return new RiskRuleFigures(rule, severity, members.Count, members.Count(i => enrollments[i].Dropout), dropouts);
        }

        var rows = RiskRules.All
            .Select(rule => Figures(rule, RiskRules.Resolve(rule, scorecard.RiskRules, scorecard.Bands).Severity, flags => flags.Any(f => f.Type == rule)))
            .ToList();
        rows.Add(Figures(AnyHigh, RiskRules.High, flags => flags.Any(f => f.Severity == RiskRules.High)));
        return rows;
    }

    public static string ToMarkdown(IReadOnlyList<RiskRuleFigures> rows, string scorecardLabel, double baseRate)
    {
        var md = new StringBuilder();
        md.AppendLine(Inv($"### Risk flags active at window_end ({scorecardLabel})")).AppendLine();
        md.AppendLine(Inv($"Base rate (share of enrollments that dropped out): {Percent(baseRate)}.")
            + " Recall = share of dropouts flagged; precision = share of flagged enrollments that dropped out (above the base rate"
            + " means the flag singles out risk). Rules needing data this dataset lacks (seats, renewal dates, NPS answers, a champion) flag nobody.");
        md.AppendLine().AppendLine("| Rule | Severity | Flagged | Recall | Precision | Lift over base rate |").AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var lift = double.IsNaN(r.Precision) ? "n/a" : (r.Precision / baseRate).ToString("0.00", CultureInfo.InvariantCulture);
            md.AppendLine(Inv($"| {r.Rule} | {r.Severity} | {r.Flagged:N0} | {Percent(r.Recall)} | {Percent(r.Precision)} | {lift} |"));
        }

        return md.ToString();
    }

    private static string Percent(double share) => double.IsNaN(share) ? "n/a" : (100 * share).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
