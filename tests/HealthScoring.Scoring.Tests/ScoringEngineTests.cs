using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using static HealthScoring.Scoring.Tests.Builders;

namespace HealthScoring.Scoring.Tests;

public sealed class ScoringEngineTests
{
    [Test]
    public void AllDataPresent_ScoreIsTheWeightedMeanOfDimensions()
    {
        // seats 2/4 -> 50; active 10 days -> 100; 2 users -> 20; no goals -> N/A (ROI out).
        var card = Card(weights: [1, 2, 1, 0.0001]);
        var usage = History(Enumerable.Range(0, 10).Select(d => Active(d, 1, d % 2 == 0 ? "a" : "b")).ToArray());

        var result = ScoringEngine.Score(card, Facts(seats: 4), usage, AsOf);

        // (50*1 + 100*2 + 20*1) / 4 = 67.5 -> 68 (half away from zero)
        Assert.That(result.Score, Is.EqualTo(68));
        Assert.That(result.Band, Is.EqualTo(Band.Yellow));
    }

    [Test]
    public void NaMeasure_ItsWeightGoesToSiblingsInProportion()
    {
        var engagement = new[]
        {
            Measure("active", MetricNames.ActiveDays, weight: 3, fullAt: 10),
            Measure("trend", MetricNames.UsageTrend, weight: 5, zeroAt: 0.5, fullAt: 1), // no baseline: N/A
            Measure("users", MetricNames.ActiveUsers, weight: 1, fullAt: 10),
        };
        var card = Card(engagement: engagement, weights: [0.0001, 1, 0.0001, 0.0001]);
        var usage = History(Active(0, 1, "a"), Active(1, 1, "a"), Active(2, 1, "b"), Active(3, 1, "c"), Active(4, 1, "d"));

        var result = ScoringEngine.Score(card, Facts(), usage, AsOf);
        var dimension = result.Dimensions.Single(d => d.Key == DimensionKeys.Engagement);

        // active 5 days -> 50 (share 3/4), users 4 -> 40 (share 1/4): 47.5
        Assert.That(dimension.Score, Is.EqualTo(47.5));
        var measures = dimension.Measures.ToDictionary(m => m.Key);
        Assert.Multiple(() =>
        {
            Assert.That(measures["trend"].Value, Is.Null);
            Assert.That(measures["trend"].Score, Is.Null);
            Assert.That(measures["trend"].Weight, Is.EqualTo(0.5556));
            Assert.That(measures["trend"].EffectiveWeight, Is.Zero);
            Assert.That(measures["active"].Weight, Is.EqualTo(0.3333));
            Assert.That(measures["active"].EffectiveWeight, Is.EqualTo(0.75).Within(0.0002));
            Assert.That(measures["users"].EffectiveWeight, Is.EqualTo(0.25).Within(0.0002));
        });
    }

    [Test]
    public void AllNaDimension_ItsWeightGoesToTheOtherDimensionsInProportion()
    {
        // Deployment N/A (no seats), ROI N/A (no goals): engagement 2 and adoption 1 share everything.
        var card = Card(weights: [4, 2, 1, 3]);
        var usage = History(Enumerable.Range(0, 10).Select(d => Active(d, 1, "a")).ToArray());

        var result = ScoringEngine.Score(card, Facts(), usage, AsOf);
        var byKey = result.Dimensions.ToDictionary(d => d.Key);

        Assert.Multiple(() =>
        {
            Assert.That(byKey[DimensionKeys.Deployment].Score, Is.Null);
            Assert.That(byKey[DimensionKeys.Deployment].Weight, Is.EqualTo(0.4));
            Assert.That(byKey[DimensionKeys.Deployment].EffectiveWeight, Is.Zero);
            Assert.That(byKey[DimensionKeys.Roi].EffectiveWeight, Is.Zero);
            Assert.That(byKey[DimensionKeys.Engagement].EffectiveWeight, Is.EqualTo(0.6667));
            Assert.That(byKey[DimensionKeys.Adoption].EffectiveWeight, Is.EqualTo(0.3333));
            // engagement 100, adoption 1 user -> 10: (100*2 + 10*1)/3 = 70
            Assert.That(result.Score, Is.EqualTo(70));
            Assert.That(result.Band, Is.EqualTo(Band.Green));
        });
    }

    [Test]
    public void EffectiveWeights_SumToOneOverAvailableMeasures()
    {
        var result = ScoringEngine.Score(DefaultScorecard.Create(), Facts(seats: 20, start: AsOf.AddDays(-200)),
            History(Enumerable.Range(0, 40).Select(d => Active(d, 3, "a", "b")).ToArray()), AsOf);

        var total = result.Dimensions.SelectMany(d => d.Measures).Sum(m => m.EffectiveWeight);

        Assert.That(total, Is.EqualTo(1).Within(0.001));
        Assert.That(result.Dimensions.Sum(d => d.EffectiveWeight), Is.EqualTo(1).Within(0.001));
    }

    [Test]
    public void NoDataAtAll_ScoreAndBandAreNull_NotZero()
    {
        var result = ScoringEngine.Score(Card(), Facts(), UsageHistory.Empty, AsOf);

        Assert.That(result.Score, Is.Null);
        Assert.That(result.Band, Is.Null);
        Assert.That(result.Drivers, Is.Empty);
    }

    [TestCase(39.4999, 39, Band.Red)]
    [TestCase(39.5, 40, Band.Yellow)]
    [TestCase(40, 40, Band.Yellow)]
    [TestCase(69.4, 69, Band.Yellow)]
    [TestCase(69.5, 70, Band.Green)]
    [TestCase(100, 100, Band.Green)]
    [TestCase(0, 0, Band.Red)]
    public void Total_IsRoundedHalfAwayFromZero_AndBandedOnTheRoundedScore(double value, int expected, Band band)
    {
        // Every dimension scores the day's quantity on a 0..100 line, so the total equals the quantity.
        var quantity = Measure("q", MetricNames.Quantity, fullAt: 100);
        var card = Card(deployment: [quantity with { Key = "q1" }], engagement: [quantity with { Key = "q2" }],
            adoption: [quantity with { Key = "q3" }], roi: [quantity with { Key = "q4" }]);
        var usage = History(Day(AsOf, [$"x:1:{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}"]));

        var result = ScoringEngine.Score(card, Facts(), usage, AsOf);

        Assert.That(result.Score, Is.EqualTo(expected));
        Assert.That(result.Band, Is.EqualTo(band));
    }

    [Test]
    public void MeasureAndDimensionScores_AreRoundedToOneDecimal()
    {
        var card = Card(engagement: [Measure("active", MetricNames.ActiveDays, fullAt: 3)]);

        var result = ScoringEngine.Score(card, Facts(), History(Active(0)), AsOf);
        var engagement = result.Dimensions.Single(d => d.Key == DimensionKeys.Engagement);

        Assert.That(engagement.Measures[0].Score, Is.EqualTo(33.3));
        Assert.That(engagement.Score, Is.EqualTo(33.3));
    }

    [Test]
    public void Drivers_AreTheMeasuresCostingMostPoints_WithTheirSentence()
    {
        var card = Card(weights: [1, 1, 1, 1]);
        // seats 1/4 -> 25 (cost 75*.25), active 10 -> 100 (no cost), users 1 -> 10 (cost 90*.25), goals 50% -> 50 (cost 12.5)
        var facts = Facts(seats: 4, goals: new Goal("invoice.sent", 10, 30));
        var usage = History(Enumerable.Range(0, 10).Select(d => Day(AsOf.AddDays(-d), d == 0 ? ["login:1", "invoice.sent:1:5"] : ["login:1"], "a")).ToArray());

        var result = ScoringEngine.Score(card, facts, usage, AsOf);

        Assert.That(result.Drivers.Select(d => d.Measure), Is.EqualTo(new[] { "users", "seats", "goals" }));
        Assert.That(result.Drivers.Select(d => d.Impact), Is.EqualTo(new[] { 22.5, 18.8, 12.5 }));
        Assert.That(result.Drivers[1].Explanation, Is.EqualTo("1 of 4 seats active in the last 30 days"));
    }

    [Test]
    public void Drivers_LeaveOutPerfectAndNaMeasures_AndKeepAtMostThree()
    {
        var result = ScoringEngine.Score(DefaultScorecard.Create(), Facts(), History(Active(0, 5, "a")), AsOf);

        Assert.That(result.Drivers, Has.Count.LessThanOrEqualTo(ScoringEngine.MaxDrivers));
        Assert.That(result.Drivers.Select(d => d.Measure), Has.None.EqualTo("days_since_last_activity").And.None.EqualTo("seat_utilisation"));
    }

    [Test]
    public void Result_CarriesScorecardIdentityAndAsOf()
    {
        var card = Card(id: "smb") with { Version = 7 };

        var result = ScoringEngine.Score(card, Facts(), History(Active(0)), AsOf);

        Assert.That((result.ScorecardId, result.ScorecardVersion, result.AsOf), Is.EqualTo(("smb", 7, AsOf)));
    }
}
