using System.Globalization;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Scoring.Backtest;

/// <summary>
/// One observation to calibrate on: the raw values of the scorecard's measures in scorecard order (dimension by
/// dimension; null: N/A that day), the account's age that day (for age-dependent scoring) and whether it churned
/// within the horizon.
/// </summary>
public sealed record CalibrationSample(double?[] Values, int? AgeDays, bool Churned);

/// <summary>One field the proposal changes, by its path in the scorecard JSON.</summary>
public sealed record CalibrationChange(string Path, string From, string To);

/// <summary>
/// The proposed scorecard and the AUCs of the current and the proposed one on the samples it was fitted on (the
/// caller reports the held-out figures: these are optimistic by construction).
/// </summary>
public sealed record CalibrationResult(
    Scorecard Proposed, double? FittedAucCurrent, double? FittedAucProposed, int FitSamples, int FitChurned, IReadOnlyList<CalibrationChange> Changes);

/// <summary>
/// Fits a scorecard's weights, and the thresholds of its linear measures, to labelled history, keeping it a
/// readable weighted scorecard: the same measures and directions, whole-number weights that sum to 100 at each
/// level (each at least 1), thresholds rounded to two significant digits. The objective is the AUC of the score
/// computed exactly as <see cref="Engine.ScoringEngine"/> folds it (N/A weights shared among siblings).
/// </summary>
/// <remarks>
/// A coordinate search: each weight in turn is scaled by a few factors and kept where the AUC rises; each linear
/// measure's thresholds are tried at quantiles of its values; repeated until nothing improves. The coarse steps,
/// the rounding and the unchanged structure are the guard against overfitting that a model of its own would
/// lack; the caller still reports the proposal on data it was not fitted on.
/// </remarks>
public static class Calibrator
{
    /// <summary>Samples beyond this are thinned evenly before the fit (the AUC of 60,000 is precise to ~0.003).</summary>
    public const int MaxFitSamples = 60_000;

    private const int MaxRounds = 8;
    private const double MinGain = 1e-4;
    private static readonly double[] Factors = [0.25, 0.5, 0.7, 1.4, 2, 4];
    private static readonly double[] Quantiles = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1];
    private static readonly int[] BandCounts = [3, 5, 8];
    private const int MinSamplesForBands = 200;

    public static CalibrationResult Calibrate(Scorecard current, IReadOnlyList<CalibrationSample> samples)
    {
        var fit = Thin(samples);
        var model = new Model(current, fit);
        var start = model.Auc();
        if (start is null)
        {
            // One class only (or no scores): nothing to fit against.
            return new CalibrationResult(current, null, null, fit.Count, fit.Count(s => s.Churned), []);
        }

        var best = start.Value;
        for (var round = 0; round < MaxRounds; round++)
        {
            var before = best;
            best = model.SearchWeights(best);
            best = model.SearchThresholds(best);
            best = model.SearchBands(best);
            if (best - before < MinGain)
            {
                break;
            }
        }

        var proposed = model.ToScorecard();
        var rounded = new Model(proposed, fit).Auc();
        return new CalibrationResult(proposed, start, rounded, fit.Count, fit.Count(s => s.Churned), Changes(current, proposed));
    }

    /// <summary>A sample's unrounded score under <paramref name="card"/> as the search computes it (tests compare it with the engine).</summary>
    internal static double? Fold(Scorecard card, CalibrationSample sample) => new Model(card, [sample]).Score(0);

    private static IReadOnlyList<CalibrationSample> Thin(IReadOnlyList<CalibrationSample> samples)
    {
        if (samples.Count <= MaxFitSamples)
        {
            return samples;
        }

        var step = samples.Count / (double)MaxFitSamples;
        return Enumerable.Range(0, MaxFitSamples).Select(i => samples[(int)(i * step)]).ToList();
    }

    private static IReadOnlyList<CalibrationChange> Changes(Scorecard from, Scorecard to)
    {
        var changes = new List<CalibrationChange>();
        for (var d = 0; d < from.Dimensions.Count; d++)
        {
            var (a, b) = (from.Dimensions[d], to.Dimensions[d]);
            if (a.Weight != b.Weight)
            {
                changes.Add(new($"dimensions[{d}].weight", Text(a.Weight), Text(b.Weight)));
            }

            for (var m = 0; m < a.Measures.Count; m++)
            {
                var (x, y) = (a.Measures[m], b.Measures[m]);
                if (x.Weight != y.Weight)
                {
                    changes.Add(new($"dimensions[{d}].measures[{m}].weight", Text(x.Weight), Text(y.Weight)));
                }

                if (x.Scoring != y.Scoring)
                {
                    changes.Add(new($"dimensions[{d}].measures[{m}].scoring", Describe(x.Scoring), Describe(y.Scoring)));
                }
            }
        }

        return changes;
    }

    private static string Describe(ScoringFunction scoring) => scoring.Type == ScoringFunction.Linear
        ? $"linear, zeroAt {Text(scoring.ZeroAt!.Value)}, fullAt {Text(scoring.FullAt!.Value)}"
        : "bands " + string.Join(", ", scoring.Bands.Select(b => $"from {Text(b.From)}: {Text(b.Score)}"));

    /// <summary>
    /// A step function fitted to the history: the values cut at quantiles into at most <paramref name="count"/>
    /// bands, each scored by its share of observations not followed by churn, made monotone in the measure's
    /// direction (adjacent bands that disagree are pooled) and stretched to 0..100. Null when nothing separates.
    /// </summary>
    internal static ScoringFunction? FitBands(IReadOnlyList<(double Value, bool Churned)> sorted, int count, bool ascending)
    {
        // The first band starts at or below every value (0 for the non-negative metrics); the others at quantiles.
        var first = Math.Min(0, sorted[0].Value);
        var starts = Enumerable.Range(1, count - 1)
            .Select(j => Nice(sorted[(int)((long)j * (sorted.Count - 1) / count)].Value))
            .Where(start => start > first)
            .Prepend(first)
            .Distinct().Order().ToList();

        // Blocks of (start, observations, retained), pooled until the retention rates run in the measure's direction.
        var blocks = new List<(double From, long N, long Retained)>();
        var i = 0;
        for (var b = 0; b < starts.Count; b++)
        {
            var end = b + 1 < starts.Count ? starts[b + 1] : double.PositiveInfinity;
            long n = 0, retained = 0;
            for (; i < sorted.Count && sorted[i].Value < end; i++)
            {
                n++;
                retained += sorted[i].Churned ? 0 : 1;
            }

            if (n == 0)
            {
                continue;
            }

            blocks.Add((starts[b], n, retained));
            while (blocks.Count > 1 && Violates(blocks[^2], blocks[^1], ascending))
            {
                var (last, before) = (blocks[^1], blocks[^2]);
                blocks.RemoveRange(blocks.Count - 2, 2);
                blocks.Add((before.From, before.N + last.N, before.Retained + last.Retained));
            }
        }

        if (blocks.Count < 2)
        {
            return null;
        }

        var rates = blocks.Select(x => x.Retained / (double)x.N).ToArray();
        var (low, high) = (rates.Min(), rates.Max());
        if (high - low < 1e-9)
        {
            return null;
        }

        return new ScoringFunction
        {
            Type = ScoringFunction.BandsType,
            Bands = blocks.Select((x, j) => new ScoreBand(j == 0 ? first : x.From, Math.Round(100 * (rates[j] - low) / (high - low)))).ToList(),
        };
    }

    private static bool Violates((double From, long N, long Retained) before, (double From, long N, long Retained) after, bool ascending)
    {
        var (a, b) = (before.Retained / (double)before.N, after.Retained / (double)after.N);
        return ascending ? b < a : b > a;
    }

    /// <summary>Whether a scoring function gives higher values the higher score.</summary>
    private static bool Ascending(ScoringFunction scoring) => scoring.Type == ScoringFunction.Linear
        ? scoring.ZeroAt!.Value < scoring.FullAt!.Value
        : scoring.Bands.OrderBy(b => b.From).Last().Score >= scoring.Bands.OrderBy(b => b.From).First().Score;

    private static string Text(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>Two significant digits: thresholds a person can read and defend.</summary>
    internal static double Nice(double value)
    {
        if (value == 0 || !double.IsFinite(value))
        {
            return value;
        }

        var unit = Math.Pow(10, Math.Floor(Math.Log10(Math.Abs(value))) - 1);
        return Math.Round(Math.Round(value / unit) * unit, 10);
    }

    /// <summary>
    /// Whole numbers summing to 100 in proportion to <paramref name="weights"/>, none below 1 (largest remainders
    /// get the rounding).
    /// </summary>
    internal static double[] Percentages(IReadOnlyList<double> weights)
    {
        var n = weights.Count;
        var sum = weights.Sum();
        var share = weights.Select(w => Math.Max(w / sum * 100, 1)).ToArray();
        var scale = 100 / share.Sum();
        var exact = share.Select(s => s * scale).ToArray();
        var result = exact.Select(e => Math.Max(Math.Floor(e), 1)).ToArray();
        foreach (var i in Enumerable.Range(0, n).OrderByDescending(i => exact[i] - Math.Floor(exact[i])).ThenBy(i => i))
        {
            if (result.Sum() >= 100)
            {
                break;
            }

            result[i]++;
        }

        while (result.Sum() > 100)
        {
            var largest = Array.IndexOf(result, result.Max());
            result[largest]--;
        }

        return result;
    }

    /// <summary>The parameters under search and the measure scores of every sample under them.</summary>
    private sealed class Model
    {
        private readonly Scorecard _card;
        private readonly IReadOnlyList<CalibrationSample> _samples;
        private readonly (int Dimension, MeasureDefinition Measure)[] _measures;
        private readonly double[] _dimensionWeights;
        private readonly double[] _measureWeights;
        private readonly ScoringFunction[] _scoring;
        private readonly float[][] _scores; // per measure, per sample; NaN: N/A
        private readonly bool[] _labels;
        private readonly double[] _risk;

        public Model(Scorecard card, IReadOnlyList<CalibrationSample> samples)
        {
            _card = card;
            _samples = samples;
            _measures = card.Dimensions.SelectMany((d, i) => d.Measures.Select(m => (i, m))).ToArray();
            _dimensionWeights = card.Dimensions.Select(d => d.Weight).ToArray();
            _measureWeights = _measures.Select(m => m.Measure.Weight).ToArray();
            _scoring = _measures.Select(m => m.Measure.Scoring).ToArray();
            _scores = new float[_measures.Length][];
            for (var k = 0; k < _measures.Length; k++)
            {
                _scores[k] = new float[samples.Count];
                Rescore(k);
            }

            _labels = new bool[samples.Count];
            _risk = new double[samples.Count];
        }

        public double SearchWeights(double best)
        {
            for (var d = 0; d < _dimensionWeights.Length; d++)
            {
                best = Search(_dimensionWeights, d, best);
            }

            for (var k = 0; k < _measureWeights.Length; k++)
            {
                best = Search(_measureWeights, k, best);
            }

            return best;
        }

        public double SearchThresholds(double best)
        {
            for (var k = 0; k < _measures.Length; k++)
            {
                var measure = _measures[k].Measure;
                if (_scoring[k].Type != ScoringFunction.Linear || measure.ScoringByAge.Count > 0)
                {
                    continue;
                }

                var values = _samples.Select(s => s.Values[k]).OfType<double>().Order().ToArray();
                if (values.Length == 0)
                {
                    continue;
                }

                var candidates = Quantiles.Select(q => Nice(values[(int)Math.Round(q * (values.Length - 1))])).Distinct().Order().ToArray();
                var ascending = Ascending(_scoring[k]);
                var kept = _scoring[k];
                for (var i = 0; i < candidates.Length; i++)
                {
                    for (var j = i + 1; j < candidates.Length; j++)
                    {
                        _scoring[k] = ascending
                            ? ScoringFunction.LinearBetween(candidates[i], candidates[j])
                            : ScoringFunction.LinearBetween(candidates[j], candidates[i]);
                        Rescore(k);
                        if (Auc() is { } auc && auc > best + MinGain)
                        {
                            best = auc;
                            kept = _scoring[k];
                        }
                    }
                }

                _scoring[k] = kept;
                Rescore(k);
            }

            return best;
        }

        /// <summary>Tries each measure with a step function fitted to the history (<see cref="FitBands"/>) in place of its scoring.</summary>
        public double SearchBands(double best)
        {
            for (var k = 0; k < _measures.Length; k++)
            {
                if (_measures[k].Measure.ScoringByAge.Count > 0)
                {
                    continue;
                }

                var sorted = new List<(double Value, bool Churned)>();
                for (var i = 0; i < _samples.Count; i++)
                {
                    if (_samples[i].Values[k] is { } v)
                    {
                        sorted.Add((v, _samples[i].Churned));
                    }
                }

                if (sorted.Count < MinSamplesForBands)
                {
                    continue;
                }

                sorted.Sort((a, b) => a.Value.CompareTo(b.Value));
                var ascending = Ascending(_scoring[k]);
                var kept = _scoring[k];
                foreach (var count in BandCounts)
                {
                    if (FitBands(sorted, count, ascending) is not { } candidate)
                    {
                        continue;
                    }

                    _scoring[k] = candidate;
                    Rescore(k);
                    if (Auc() is { } auc && auc > best + MinGain)
                    {
                        best = auc;
                        kept = candidate;
                    }
                }

                _scoring[k] = kept;
                Rescore(k);
            }

            return best;
        }

        private double Search(double[] weights, int index, double best)
        {
            var kept = weights[index];
            var floor = weights.Sum() * 0.01;
            foreach (var factor in Factors)
            {
                weights[index] = Math.Max(kept * factor, floor);
                if (Auc() is { } auc && auc > best + MinGain)
                {
                    best = auc;
                    kept = weights[index];
                }
            }

            weights[index] = kept;
            return best;
        }

        /// <summary>The AUC of -score over the samples with a score (the engine's fold, unrounded).</summary>
        public double? Auc()
        {
            var n = 0;
            var positives = 0;
            for (var i = 0; i < _samples.Count; i++)
            {
                if (Score(i) is { } score)
                {
                    _risk[n] = -score;
                    _labels[n] = _samples[i].Churned;
                    positives += _labels[n] ? 1 : 0;
                    n++;
                }
            }

            if (positives == 0 || positives == n)
            {
                return null;
            }

            var risk = _risk.AsSpan(0, n).ToArray();
            var labels = _labels.AsSpan(0, n).ToArray();
            Array.Sort(risk, labels);
            return Backtester.SortedAuc(risk, labels, positives);
        }

        public double? Score(int sample)
        {
            double total = 0, available = 0;
            var k = 0;
            for (var d = 0; d < _dimensionWeights.Length; d++)
            {
                double sum = 0, weight = 0;
                for (; k < _measures.Length && _measures[k].Dimension == d; k++)
                {
                    var s = _scores[k][sample];
                    if (!float.IsNaN(s))
                    {
                        sum += _measureWeights[k] * s;
                        weight += _measureWeights[k];
                    }
                }

                if (weight > 0)
                {
                    total += _dimensionWeights[d] * sum / weight;
                    available += _dimensionWeights[d];
                }
            }

            return available > 0 ? total / available : null;
        }

        private void Rescore(int k)
        {
            var measure = _measures[k].Measure;
            var column = _scores[k];
            for (var i = 0; i < _samples.Count; i++)
            {
                var sample = _samples[i];
                column[i] = sample.Values[k] is { } v
                    ? (float)(measure.ScoringByAge.Count > 0 ? measure.ScoringFor(sample.AgeDays) : _scoring[k]).Score(v)
                    : float.NaN;
            }
        }

        /// <summary>A level's weights as percentages, or as they were when the search left them unchanged (nothing to review).</summary>
        private static double[] Readable(double[] fitted, double[] original) => fitted.SequenceEqual(original) ? original : Percentages(fitted);

        /// <summary>The scorecard with the fitted parameters, in whole-number weights (sum 100 per level).</summary>
        public Scorecard ToScorecard()
        {
            var dimensionWeights = Readable(_dimensionWeights, _card.Dimensions.Select(d => d.Weight).ToArray());
            var dimensions = _card.Dimensions.Select((dimension, d) =>
            {
                var indices = Enumerable.Range(0, _measures.Length).Where(k => _measures[k].Dimension == d).ToArray();
                var weights = Readable(indices.Select(k => _measureWeights[k]).ToArray(), indices.Select(k => _measures[k].Measure.Weight).ToArray());
                var measures = indices.Select((k, j) => _measures[k].Measure with { Weight = weights[j], Scoring = _scoring[k] }).ToList();
                return dimension with { Weight = dimensionWeights[d], Measures = measures };
            }).ToList();
            return _card with { Dimensions = dimensions };
        }
    }
}
