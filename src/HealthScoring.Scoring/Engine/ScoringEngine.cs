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
        var (dimensionWeights, measureWeights) = NormalisedWeights.GetValue(scorecard, Normalise);
        var definitions = scorecard.Dimensions;

        // Each measure's value and score, each dimension's score from its available measures' shares.
        var values = new MetricValue[definitions.Count][];
        var scores = new double?[definitions.Count][];
        var shares = new double[definitions.Count][];
        var dimensionScores = new double?[definitions.Count];
        for (var i = 0; i < definitions.Count; i++)
        {
            var measures = definitions[i].Measures;
            var weights = measureWeights[i];
            (values[i], scores[i], shares[i]) = (new MetricValue[measures.Count], new double?[measures.Count], new double[measures.Count]);
            var available = 0d;
            for (var j = 0; j < measures.Count; j++)
            {
                var value = MetricCalculator.Compute(measures[j], scorecard, facts, usage, asOf);
                values[i][j] = value;
                scores[i][j] = value.Value is { } v ? measures[j].ScoringFor(age).Score(v) : null;
                available += scores[i][j] is null ? 0 : weights[j];
            }

            if (available > 0)
            {
                var dimensionScore = 0d;
                for (var j = 0; j < measures.Count; j++)
                {
                    shares[i][j] = scores[i][j] is null ? 0 : weights[j] / available;
                    dimensionScore += shares[i][j] * (scores[i][j] ?? 0);
                }

                dimensionScores[i] = dimensionScore;
            }
        }

        var availableDimensions = 0d;
        for (var i = 0; i < definitions.Count; i++)
        {
            availableDimensions += dimensionScores[i] is null ? 0 : dimensionWeights[i];
        }

        var dimensions = new DimensionResult[definitions.Count];
        var drivers = new List<Driver>();
        double total = 0;
        for (var i = 0; i < definitions.Count; i++)
        {
            var (definition, weight, score) = (definitions[i], dimensionWeights[i], dimensionScores[i]);
            var effective = score is null || availableDimensions == 0 ? 0 : weight / availableDimensions;
            total += effective * (score ?? 0);
            var results = new MeasureResult[definition.Measures.Count];
            for (var j = 0; j < results.Length; j++)
            {
                var (measure, value, measureScore) = (definition.Measures[j], values[i][j], scores[i][j]);
                var measureEffective = effective * shares[i][j];
                if (measureScore is { } s && measureEffective > 0 && s < 100)
                {
                    drivers.Add(new Driver(measure.Key, Round((100 - s) * measureEffective, 1), value.Explanation));
                }

                results[j] = new MeasureResult(measure.Key, measure.Metric, value.Value, measureScore is { } ms ? Round(ms, 1) : null,
                    Round(measureWeights[i][j], 4), Round(measureEffective, 4), value.Explanation);
            }

            dimensions[i] = new DimensionResult(definition.Key, score is { } ds ? Round(ds, 1) : null, Round(weight, 4), Round(effective, 4), results);
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

    /// <summary>Each scorecard's dimension weights and, per dimension, its measure weights, normalised once per scorecard instance.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Scorecard, Tuple<double[], double[][]>> NormalisedWeights = new();

    private static Tuple<double[], double[][]> Normalise(Scorecard scorecard) => Tuple.Create(
        Normalise(scorecard.Dimensions.Select(d => d.Weight).ToArray()),
        scorecard.Dimensions.Select(d => Normalise(d.Measures.Select(m => m.Weight).ToArray())).ToArray());

    public static Band BandOf(double score, BandThresholds thresholds) =>
        score < thresholds.YellowFrom ? Band.Red : score < thresholds.GreenFrom ? Band.Yellow : Band.Green;

    private static double[] Normalise(double[] weights)
    {
        var sum = weights.Sum();
        return sum > 0 ? weights.Select(w => w / sum).ToArray() : weights.Select(_ => 0d).ToArray();
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
