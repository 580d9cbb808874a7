using HealthScoring.Scoring.Engine;

namespace HealthScoring.Scoring.Backtest;

/// <summary>
/// One account's health on one evaluation day, and whether it churned within the horizon after it.
/// <see cref="MeasureScores"/> follow the measure keys given to <see cref="Backtester.Evaluate"/> (NaN: N/A that
/// day); a compact array because a backtest holds millions of observations.
/// </summary>
public sealed record BacktestObservation(
    string AccountId, DateOnly Day, int? Score, Band? Band, float[] MeasureScores, bool ChurnedWithinHorizon);

/// <summary>
/// A band's observations: <see cref="Accounts"/> distinct accounts were observed in it on <see cref="Observations"/>
/// evaluation days, <see cref="Churned"/> of which were followed by a churn within the horizon (the churn rate).
/// </summary>
public sealed record BandFigures(string Band, int Accounts, int Observations, int Churned, double? ChurnRate);

public sealed record MeasureAuc(string Key, double? Auc, int Observations, int Churned);

/// <summary>
/// How well a scorecard's history predicted churn: the AUC of the score (a higher score means lower risk, so the
/// AUC is that of -score), churn rate per band and the lift of red over green, the median lead time between an
/// account turning red and churning, each measure's own AUC, and the counts behind each figure
/// (<see cref="Accounts"/> observed, <see cref="Churned"/> of them churned in the period).
/// </summary>
public sealed record BacktestResult(
    double? Auc,
    int Accounts,
    int Churned,
    int Observations,
    int ChurnedObservations,
    IReadOnlyList<BandFigures> Bands,
    double? LiftRedOverGreen,
    double? MedianLeadTimeDays,
    int ChurnsWarnedByRed,
    IReadOnlyList<MeasureAuc> Measures);

/// <summary>Backtest arithmetic over observations already computed (pure: the service and the KDD tool feed it).</summary>
public static class Backtester
{
    /// <param name="observations">One per account and evaluation day.</param>
    /// <param name="measureKeys">The keys of the observations' measure scores, in their order.</param>
    /// <param name="churnDays">The churn day of each account that churned.</param>
    /// <param name="dailyBands">Each churned account's band per day before its churn (for the lead time), ascending.</param>
    public static BacktestResult Evaluate(
        IReadOnlyList<BacktestObservation> observations,
        IReadOnlyList<string> measureKeys,
        IReadOnlyDictionary<string, DateOnly> churnDays,
        IReadOnlyDictionary<string, IReadOnlyList<(DateOnly Day, Band? Band)>> dailyBands)
    {
        var scored = observations.Where(o => o.Score is not null).ToList();
        var auc = Auc(scored.Select(o => -(double)o.Score!.Value).ToList(), scored.Select(o => o.ChurnedWithinHorizon).ToList());

        var bands = new[] { Band.Red, Band.Yellow, Band.Green }.Select(band =>
        {
            var members = observations.Where(o => o.Band == band).ToList();
            var churned = members.Count(o => o.ChurnedWithinHorizon);
            return new BandFigures(band.ToString().ToLowerInvariant(), members.Select(o => o.AccountId).Distinct(StringComparer.Ordinal).Count(),
                members.Count, churned, members.Count == 0 ? null : churned / (double)members.Count);
        }).ToList();
        var red = bands[0].ChurnRate;
        var green = bands[2].ChurnRate;
        double? lift = red is { } r && green is > 0 ? r / green!.Value : null;

        var leads = new List<int>();
        foreach (var (account, churnDay) in churnDays)
        {
            if (LeadTimeDays(dailyBands.GetValueOrDefault(account) ?? [], churnDay) is { } lead)
            {
                leads.Add(lead);
            }
        }

        var measures = measureKeys.Select((key, k) =>
            {
                var with = observations.Where(o => !float.IsNaN(o.MeasureScores[k])).ToList();
                return new MeasureAuc(key, Auc(with.Select(o => -(double)o.MeasureScores[k]).ToList(), with.Select(o => o.ChurnedWithinHorizon).ToList()),
                    with.Count, with.Count(o => o.ChurnedWithinHorizon));
            })
            .ToList();

        return new BacktestResult(
            auc,
            observations.Select(o => o.AccountId).Distinct(StringComparer.Ordinal).Count(),
            churnDays.Count,
            observations.Count,
            observations.Count(o => o.ChurnedWithinHorizon),
            bands,
            lift,
            Median(leads),
            leads.Count,
            measures);
    }

    /// <summary>
    /// Days between the start of the red run the account was in on its last day before churning, and the churn;
    /// null when it was not red then (the score did not warn).
    /// </summary>
    public static int? LeadTimeDays(IReadOnlyList<(DateOnly Day, Band? Band)> days, DateOnly churnDay)
    {
        DateOnly? redSince = null;
        foreach (var (day, band) in days)
        {
            if (day >= churnDay)
            {
                break;
            }

            redSince = band == Band.Red ? redSince ?? day : null;
        }

        return redSince is { } since ? churnDay.DayNumber - since.DayNumber : null;
    }

    /// <summary>ROC AUC of <paramref name="risk"/> for the positive labels (rank-sum, ties at their average rank); null without both classes.</summary>
    public static double? Auc(IReadOnlyList<double> risk, IReadOnlyList<bool> labels)
    {
        var positives = labels.Count(l => l);
        var negatives = labels.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return null;
        }

        var keys = risk.ToArray();
        var sortedLabels = labels.ToArray();
        Array.Sort(keys, sortedLabels);
        return SortedAuc(keys, sortedLabels, positives);
    }

    /// <summary>The rank-sum AUC of risks already sorted ascending (with their labels), ties at their average rank.</summary>
    internal static double SortedAuc(double[] sortedRisk, bool[] labels, int positives)
    {
        var negatives = labels.Length - positives;
        var rankSum = 0.0;
        for (var start = 0; start < sortedRisk.Length;)
        {
            var end = start;
            var churners = labels[start] ? 1 : 0;
            while (end + 1 < sortedRisk.Length && sortedRisk[end + 1] == sortedRisk[start])
            {
                end++;
                churners += labels[end] ? 1 : 0;
            }

            rankSum += churners * ((start + end) / 2.0 + 1);
            start = end + 1;
        }

        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    private static double? Median(List<int> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        values.Sort();
        var middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
    }
}
