using HealthScoring.Scoring.Engine;
using HealthScoring.Service.Health;

namespace HealthScoring.Service.Tests.Health;

/// <summary>The stored form of a snapshot's measure scores (health_daily.measure_scores), read back by backtests.</summary>
public sealed class MeasureScoresTests
{
    private static MeasureResult Measure(string key, double? score) => new(key, "active_days", 1, score, 1, 1, "");

    [Test]
    public void Encode_InMeasureOrder_OneDecimal_EmptyForNa()
    {
        var result = new HealthResult("a", new DateOnly(2026, 1, 1), 50, Band.Yellow, "default", 1,
        [
            new DimensionResult("deployment", null, 0.25, 0, [Measure("seats", null)]),
            new DimensionResult("engagement", 50, 0.75, 1, [Measure("active", 55.2), Measure("recency", 100), Measure("trend", 0)]),
        ], []);

        Assert.That(MeasureScores.Encode(result), Is.EqualTo(",55.2,100,0"));
    }

    [Test]
    public void Decode_PlacesEachScore_WhereItsKeyGoes()
    {
        var target = new float[4];

        // Stored order: a, b (N/A), c, d (not wanted), e in an unusual notation.
        MeasureScores.Decode("55.2,,100,7.5,1e1", [0, 1, 2, -1, 3], target);

        Assert.That(target, Is.EqualTo(new[] { 55.2f, float.NaN, 100f, 10f }));
    }

    [Test]
    public void Decode_OfAShorterRow_LeavesTheRestNa()
    {
        var target = new float[3];
        MeasureScores.Decode("0.5", [2, 0, 1], target);
        Assert.That(target, Is.EqualTo(new[] { float.NaN, float.NaN, 0.5f }));
    }
}
