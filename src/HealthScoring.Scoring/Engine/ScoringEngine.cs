using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Scoring.Engine;

/// <summary>
/// The DEAR fold, a pure function: measures -> dimensions -> score. Missing data is N/A, never 0: an N/A
/// measure's weight goes to its siblings in proportion to theirs, an all-N/A dimension's weight to the
/// other dimensions in proportion; with no data at all the score is null.
/// Rounding: measure and dimension scores to one decimal, the total to a whole number (half away from
/// zero) computed from the unrounded parts; the band is taken from the whole number.
/// </summary>
public static class ScoringEngine
{
    public const int MaxDrivers = 3;

    public static HealthResult Score(Scorecard scorecard, AccountFacts facts, UsageHistory usage, DateOnly asOf)
    {
        var age = facts.StartDate is { } start ? asOf.DayNumber - start.DayNumber : (int?)null;
        var dimensionWeights = Normalise(scorecard.Dimensions.Select(d => d.Weight).ToArray());
        var partial = new List<(DimensionDefinition Definition, double Weight, double? Score, List<(MeasureDefinition M, MetricValue V, double? S, double W, double Share)> Measures)>();

        foreach (var (dimension, i) in scorecard.Dimensions.Select((d, i) => (d, i)))
        {
            var measureWeights = Normalise(dimension.Measures.Select(m => m.Weight).ToArray());
            var measures = dimension.Measures.Select((m, j) =>
            {
                var value = MetricCalculator.Compute(m, scorecard, facts, usage, asOf);
                double? score = value.Value is { } v ? m.ScoringFor(age).Score(v) : null;
                return (M: m, V: value, S: score, W: measureWeights[j], Share: 0d);
            }).ToList();

            var available = measures.Where(m => m.S is not null).Sum(m => m.W);
            double? dimensionScore = null;
            if (available > 0)
            {
                for (var j = 0; j < measures.Count; j++)
                {
                    measures[j] = measures[j] with { Share = measures[j].S is null ? 0 : measures[j].W / available };
                }

                dimensionScore = measures.Sum(m => m.Share * (m.S ?? 0));
            }

            partial.Add((dimension, dimensionWeights[i], dimensionScore, measures));
        }

        var availableDimensions = partial.Where(d => d.Score is not null).Sum(d => d.Weight);
        var dimensions = new List<DimensionResult>(partial.Count);
        var drivers = new List<Driver>();
        double total = 0;
        foreach (var (definition, weight, score, measures) in partial)
        {
            var effective = score is null || availableDimensions == 0 ? 0 : weight / availableDimensions;
            total += effective * (score ?? 0);
            var results = measures.Select(m =>
            {
                var measureEffective = effective * m.Share;
                if (m.S is { } s && measureEffective > 0 && s < 100)
                {
                    drivers.Add(new Driver(m.M.Key, Round((100 - s) * measureEffective, 1), m.V.Explanation));
                }

                return new MeasureResult(m.M.Key, m.M.Metric, m.V.Value, m.S is { } ms ? Round(ms, 1) : null,
                    Round(m.W, 4), Round(measureEffective, 4), m.V.Explanation);
            }).ToList();
            dimensions.Add(new DimensionResult(definition.Key, score is { } ds ? Round(ds, 1) : null, Round(weight, 4), Round(effective, 4), results));
        }

        int? final = availableDimensions > 0 ? (int)Math.Round(total, MidpointRounding.AwayFromZero) : null;
        return new HealthResult(
            facts.AccountId,
            asOf,
            final,
            final is { } f ? BandOf(f, scorecard.Bands) : null,
            scorecard.Id,
            scorecard.Version,
            dimensions,
            drivers.Where(d => d.Impact > 0).OrderByDescending(d => d.Impact).ThenBy(d => d.Measure, StringComparer.Ordinal).Take(MaxDrivers).ToList());
    }

    public static Band BandOf(double score, BandThresholds thresholds) =>
        score < thresholds.YellowFrom ? Band.Red : score < thresholds.GreenFrom ? Band.Yellow : Band.Green;

    private static double[] Normalise(double[] weights)
    {
        var sum = weights.Sum();
        return sum > 0 ? weights.Select(w => w / sum).ToArray() : weights.Select(_ => 0d).ToArray();
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
