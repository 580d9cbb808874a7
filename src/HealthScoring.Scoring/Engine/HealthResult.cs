namespace HealthScoring.Scoring.Engine;

public enum Band
{
    Red,
    Yellow,
    Green,
}

/// <summary>
/// One account's health as of one day. Scores are null where there is no data (N/A). <c>Weight</c> is the
/// configured share within the parent (normalised); <c>EffectiveWeight</c> is the share of the total score
/// after N/A weights were redistributed.
/// </summary>
public sealed record HealthResult(
    string AccountId,
    DateOnly AsOf,
    int? Score,
    Band? Band,
    string ScorecardId,
    int ScorecardVersion,
    IReadOnlyList<DimensionResult> Dimensions,
    IReadOnlyList<Driver> Drivers)
{
    public double? DimensionScore(string key)
    {
        foreach (var dimension in Dimensions)
        {
            if (dimension.Key == key)
            {
                return dimension.Score;
            }
        }

        return null;
    }
}

public sealed record DimensionResult(string Key, double? Score, double Weight, double EffectiveWeight, IReadOnlyList<MeasureResult> Measures);

public sealed record MeasureResult(string Key, string Metric, double? Value, double? Score, double Weight, double EffectiveWeight, string Explanation);

/// <summary>A measure costing points: <c>Impact</c> = (100 - score) x effective weight, in points of the total.</summary>
public sealed record Driver(string Measure, double Impact, string Explanation);
