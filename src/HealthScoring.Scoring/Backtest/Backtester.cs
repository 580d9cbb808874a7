using HealthScoring.Scoring.Engine;

namespace HealthScoring.Scoring.Backtest;

/// <summary>
/// One account's health on one evaluation day, and whether it churned within the horizon after it.
/// <see cref="MeasureScores"/> follow the measure keys given to <see cref="Backtester.Evaluate"/> (NaN, or missing
/// at the end: N/A that day); a compact array because a backtest holds millions of observations.
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
        var accumulator = new BacktestAccumulator();
        foreach (var o in observations)
        {
            accumulator.Add(o.AccountId, o.Score, o.Band, o.MeasureScores, o.ChurnedWithinHorizon);
        }

        foreach (var (account, churnDay) in churnDays)
        {
            accumulator.AddChurn(churnDay, dailyBands.GetValueOrDefault(account) ?? []);
        }

        return accumulator.Result(measureKeys);
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


    /// <summary>
    /// Health and measure scores with their labels, counted per 0.1 step of 0..100 (the engine rounds measure scores
    /// to one decimal and the score to a whole number); a value off that grid is kept aside and ranked exactly.
    /// The AUC is the rank-sum one: higher score = lower risk, ties at their average rank.
    /// </summary>
    internal sealed class ScoreHistogram
    {
        private const int Steps = 1001;
        private readonly long[] _positives = new long[Steps];
        private readonly long[] _negatives = new long[Steps];
        private List<(double Value, bool Churned)>? _offGrid;

        public int Count { get; private set; }

        public int Positives { get; private set; }

        public void Add(double value, bool churned)
        {
            Count++;
            Positives += churned ? 1 : 0;
            var step = Math.Round(value * 10);
            if (step is >= 0 and < Steps && Math.Abs(step / 10 - value) < 1e-4)
            {
                (churned ? _positives : _negatives)[(int)step]++;
            }
            else
            {
                (_offGrid ??= []).Add((value, churned));
            }
        }

        public void Merge(ScoreHistogram other)
        {
            Count += other.Count;
            Positives += other.Positives;
            for (var i = 0; i < Steps; i++)
            {
                _positives[i] += other._positives[i];
                _negatives[i] += other._negatives[i];
            }

            if (other._offGrid is not null)
            {
                (_offGrid ??= []).AddRange(other._offGrid);
            }
        }

        public double? Auc()
        {
            if (_offGrid is not null)
            {
                // Rare: rank everything exactly.
                var all = new List<(double Value, bool Churned)>(_offGrid);
                for (var i = 0; i < Steps; i++)
                {
                    all.AddRange(Enumerable.Repeat((i / 10.0, true), (int)_positives[i]));
                    all.AddRange(Enumerable.Repeat((i / 10.0, false), (int)_negatives[i]));
                }

                return Backtester.Auc(all.Select(a => -a.Value).ToList(), all.Select(a => a.Churned).ToList());
            }

            long positives = Positives, negatives = Count - Positives;
            if (positives == 0 || negatives == 0)
            {
                return null;
            }

            // A churner beats every stayer with a higher score (lower risk) and half of those with the same score.
            double wins = 0;
            long stayersAbove = 0;
            for (var i = Steps - 1; i >= 0; i--)
            {
                wins += _positives[i] * (stayersAbove + _negatives[i] / 2.0);
                stayersAbove += _negatives[i];
            }

            return wins / ((double)positives * negatives);
        }
    }
}

/// <summary>
/// A backtest's figures gathered one observation at a time, so that millions of observations need not be held:
/// per-step counts for the AUCs, per-band counts and accounts, the lead time of each churn. Not thread-safe:
/// one per worker, then <see cref="Merge"/>.
/// </summary>
public sealed class BacktestAccumulator
{
    private readonly Backtester.ScoreHistogram _score = new();
    private readonly List<Backtester.ScoreHistogram> _measures = [];
    private readonly int[] _bandObservations = new int[3];
    private readonly int[] _bandChurned = new int[3];
    private readonly HashSet<string>[] _bandAccounts = [new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal)];
    private readonly HashSet<string> _accounts = new(StringComparer.Ordinal);
    private readonly List<int> _leads = [];
    private int _observations;
    private int _churnedObservations;
    private int _churns;

    /// <param name="measureScores">By measure position (NaN: N/A; positions beyond the span: N/A).</param>
    public void Add(string accountId, int? score, Band? band, ReadOnlySpan<float> measureScores, bool churned)
    {
        _observations++;
        _churnedObservations += churned ? 1 : 0;
        _accounts.Add(accountId);
        if (score is { } s)
        {
            _score.Add(s, churned);
        }

        if (band is { } b)
        {
            _bandObservations[(int)b]++;
            _bandChurned[(int)b] += churned ? 1 : 0;
            _bandAccounts[(int)b].Add(accountId);
        }

        while (_measures.Count < measureScores.Length)
        {
            _measures.Add(new Backtester.ScoreHistogram());
        }

        for (var k = 0; k < measureScores.Length; k++)
        {
            if (!float.IsNaN(measureScores[k]))
            {
                _measures[k].Add(measureScores[k], churned);
            }
        }
    }

    /// <summary>An account that churned on <paramref name="churnDay"/>, with its band on each day before (ascending).</summary>
    public void AddChurn(DateOnly churnDay, IReadOnlyList<(DateOnly Day, Band? Band)> dailyBands)
    {
        _churns++;
        if (Backtester.LeadTimeDays(dailyBands, churnDay) is { } lead)
        {
            _leads.Add(lead);
        }
    }

    public void Merge(BacktestAccumulator other)
    {
        _score.Merge(other._score);
        while (_measures.Count < other._measures.Count)
        {
            _measures.Add(new Backtester.ScoreHistogram());
        }

        for (var k = 0; k < other._measures.Count; k++)
        {
            _measures[k].Merge(other._measures[k]);
        }

        for (var b = 0; b < 3; b++)
        {
            _bandObservations[b] += other._bandObservations[b];
            _bandChurned[b] += other._bandChurned[b];
            _bandAccounts[b].UnionWith(other._bandAccounts[b]);
        }

        _accounts.UnionWith(other._accounts);
        _leads.AddRange(other._leads);
        _observations += other._observations;
        _churnedObservations += other._churnedObservations;
        _churns += other._churns;
    }

    public BacktestResult Result(IReadOnlyList<string> measureKeys)
    {
        var bands = new[] { Band.Red, Band.Yellow, Band.Green }.Select(band =>
        {
            var (count, churned) = (_bandObservations[(int)band], _bandChurned[(int)band]);
            return new BandFigures(band.ToString().ToLowerInvariant(), _bandAccounts[(int)band].Count, count, churned, count == 0 ? null : churned / (double)count);
        }).ToList();
        var red = bands[0].ChurnRate;
        var green = bands[2].ChurnRate;
        double? lift = red is { } r && green is > 0 ? r / green!.Value : null;

        var measures = measureKeys.Select((key, k) => k < _measures.Count
            ? new MeasureAuc(key, _measures[k].Auc(), _measures[k].Count, _measures[k].Positives)
            : new MeasureAuc(key, null, 0, 0)).ToList();

        _leads.Sort();
        double? median = _leads.Count == 0 ? null
            : _leads.Count % 2 == 1 ? _leads[_leads.Count / 2] : (_leads[_leads.Count / 2 - 1] + _leads[_leads.Count / 2]) / 2.0;

        return new BacktestResult(_score.Auc(), _accounts.Count, _churns, _observations, _churnedObservations, bands, lift, median, _leads.Count, measures);
    }
}
