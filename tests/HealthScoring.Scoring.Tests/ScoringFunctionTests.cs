using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Scoring.Tests;

public sealed class ScoringFunctionTests
{
    [TestCase(-5, 0)]
    [TestCase(0, 0)]
    [TestCase(2.5, 25)]
    [TestCase(5, 50)]
    [TestCase(10, 100)]
    [TestCase(50, 100)]
    public void Linear_Ascending_IsClampedStraightLine(double value, double expected) =>
        Assert.That(ScoringFunction.LinearBetween(0, 10).Score(value), Is.EqualTo(expected).Within(1e-9));

    [TestCase(0, 100)]
    [TestCase(1, 100)]
    [TestCase(15.5, 50)]
    [TestCase(30, 0)]
    [TestCase(90, 0)]
    public void Linear_Descending_ScoresLowerValuesHigher(double daysSince, double expected) =>
        Assert.That(ScoringFunction.LinearBetween(30, 1).Score(daysSince), Is.EqualTo(expected).Within(1e-9));

    [TestCase(-1, 0)]
    [TestCase(0, 0)]
    [TestCase(6.99, 0)]
    [TestCase(7, 60)]
    [TestCase(8.5, 60)]
    [TestCase(9, 100)]
    [TestCase(10, 100)]
    public void Bands_TakeTheHighestBandNotAboveTheValue(double value, double expected)
    {
        var bands = new ScoringFunction { Type = ScoringFunction.BandsType, Bands = [new(9, 100), new(0, 0), new(7, 60)] };

        Assert.That(bands.Score(value), Is.EqualTo(expected));
    }

    [Test]
    public void Bands_ValueBelowEveryBand_ScoresZero()
    {
        var bands = new ScoringFunction { Type = ScoringFunction.BandsType, Bands = [new(5, 80)] };

        Assert.That(bands.Score(4), Is.Zero);
    }

    [TestCase(0, 0.1, 0.8)]
    [TestCase(89, 0.1, 0.8)]
    [TestCase(90, 0.2, 0.9)]
    [TestCase(400, 0.2, 0.9)]
    public void ScoringByAge_TightensFromItsAge(int age, double zeroAt, double fullAt)
    {
        var measure = DefaultScorecard.Create().Dimensions[0].Measures[0];

        var scoring = measure.ScoringFor(age);

        Assert.That((scoring.ZeroAt, scoring.FullAt), Is.EqualTo((zeroAt, fullAt)));
    }

    [Test]
    public void ScoringByAge_UnknownAge_UsesTheBaseScoring() =>
        Assert.That(DefaultScorecard.Create().Dimensions[0].Measures[0].ScoringFor(null).ZeroAt, Is.EqualTo(0.1));

    [TestCase(10, 0.0)]
    [TestCase(30, 0.3)]
    [TestCase(59, 0.3)]
    [TestCase(60, 0.62)]
    [TestCase(500, 0.62)]
    public void ScoringByAge_TheOldestReachedEntryWins_InAnyOrder_TheLastOfEqualOnes(int age, double zeroAt)
    {
        static ScoringFunction Linear(double zeroAt) => new() { Type = ScoringFunction.Linear, ZeroAt = zeroAt, FullAt = 1 };
        var measure = new MeasureDefinition
        {
            Key = "m",
            Metric = "active_days",
            Scoring = Linear(0),
            ScoringByAge = [new(60, Linear(0.6)), new(30, Linear(0.3)), new(60, Linear(0.62))],
        };

        Assert.That(measure.ScoringFor(age).ZeroAt, Is.EqualTo(zeroAt));
    }
}
