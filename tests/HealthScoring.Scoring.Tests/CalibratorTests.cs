using HealthScoring.Scoring.Backtest;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using static HealthScoring.Scoring.Tests.Builders;

namespace HealthScoring.Scoring.Tests;

/// <summary>Calibration: a readable proposal that ranks churners better on the history it was fitted to.</summary>
public sealed class CalibratorTests
{
    /// <summary>Engagement: "signal" (active days) predicts churn, "noise" (active users) does not; the rest N/A.</summary>
    private static Scorecard TwoMeasureCard(double signalWeight, double noiseWeight, double zeroAt = 0, double fullAt = 10) => Card(
        engagement:
        [
            Measure("signal", MetricNames.ActiveDays, weight: signalWeight, zeroAt: zeroAt, fullAt: fullAt),
            Measure("noise", MetricNames.ActiveUsers, weight: noiseWeight, zeroAt: 0, fullAt: 10),
        ]);

    /// <summary>Values in scorecard order: seats, signal, noise, users, goals.</summary>
    private static List<CalibrationSample> Samples(int count, int seed)
    {
        var random = new Random(seed);
        var samples = new List<CalibrationSample>(count);
        for (var i = 0; i < count; i++)
        {
            var signal = random.Next(0, 11);
            // Churn gets likelier as the signal falls: 90% at 0, 10% at 10.
            var churned = random.NextDouble() < 0.9 - 0.08 * signal;
            samples.Add(new CalibrationSample([null, signal, random.Next(0, 11), null, null], AgeDays: 100, churned));
        }

        return samples;
    }

    [Test]
    public void Calibrate_MovesWeightToThePredictiveMeasure_AndKeepsTheScorecardReadable()
    {
        var current = TwoMeasureCard(signalWeight: 10, noiseWeight: 90);

        var result = Calibrator.Calibrate(current, Samples(4000, seed: 1));

        var engagement = result.Proposed.Dimensions.Single(d => d.Key == DimensionKeys.Engagement);
        var signal = engagement.Measures.Single(m => m.Key == "signal");
        var noise = engagement.Measures.Single(m => m.Key == "noise");
        Assert.Multiple(() =>
        {
            Assert.That(signal.Weight, Is.GreaterThan(noise.Weight * 4), "the predictive measure carries the weight");
            Assert.That(result.FittedAucProposed, Is.GreaterThan(result.FittedAucCurrent! + 0.05));
            Assert.That(result.Proposed.Dimensions.Select(d => d.Weight), Is.EqualTo(current.Dimensions.Select(d => d.Weight)), "dimension weights unchanged where the fit left them");
            Assert.That(result.Proposed.Dimensions.SelectMany(d => d.Measures).Select(m => m.Weight), Is.All.GreaterThanOrEqualTo(1));
            Assert.That(engagement.Measures.Sum(m => m.Weight), Is.EqualTo(100));
            Assert.That(ScorecardValidator.Validate(result.Proposed), Is.Empty, "the proposal can be PUT as it is");
            Assert.That(result.Changes.Select(c => c.Path), Does.Contain("dimensions[1].measures[0].weight"));
            Assert.That(result.Proposed.Dimensions.SelectMany(d => d.Measures).Select(m => m.Key),
                Is.EqualTo(current.Dimensions.SelectMany(d => d.Measures).Select(m => m.Key)), "same measures, same order");
        });
    }

    [Test]
    public void Calibrate_WidensThresholdsThatClampTheSignalAway()
    {
        // 9..10 active days: every value below 9 scores 0, so 0-8 tie and the ranking among them is lost.
        var current = TwoMeasureCard(signalWeight: 99, noiseWeight: 1, zeroAt: 9, fullAt: 10);

        var result = Calibrator.Calibrate(current, Samples(4000, seed: 2));

        var signal = result.Proposed.Dimensions[1].Measures[0].Scoring;
        Assert.Multiple(() =>
        {
            Assert.That(signal.ZeroAt, Is.LessThan(9), "the zero point moves down into the values that separate churners");
            Assert.That(signal.ZeroAt, Is.LessThan(signal.FullAt!.Value), "the direction is kept: more active days score higher");
            Assert.That(result.FittedAucProposed, Is.GreaterThan(result.FittedAucCurrent! + 0.05));
            Assert.That(result.Changes.Select(c => c.Path), Does.Contain("dimensions[1].measures[0].scoring"));
        });
    }

    [Test]
    public void Calibrate_WithOneClassOnly_ProposesNoChange()
    {
        var current = TwoMeasureCard(10, 90);
        var samples = Samples(100, seed: 3).Select(s => s with { Churned = false }).ToList();

        var result = Calibrator.Calibrate(current, samples);

        Assert.That((result.Proposed, result.Changes.Count, result.FittedAucCurrent), Is.EqualTo((current, 0, (double?)null)));
    }

    [Test]
    public void Fold_MatchesTheEngine_IncludingNaRedistribution()
    {
        // Seats 5 of 20 (25%), active 3 of 30 days, one user; goals N/A: ROI's weight goes to the others.
        var card = Card(weights: [10, 20, 30, 40]);
        var facts = Facts(seats: 20, start: AsOf.AddDays(-200));
        var usage = History(Enumerable.Range(0, 3).Select(d => Day(AsOf.AddDays(-d), ["login:1"], "u1", "u2", "u3", "u4", "u5")).ToArray());

        var engine = ScoringEngine.Score(card, facts, usage, AsOf);
        var values = engine.Dimensions.SelectMany(d => d.Measures).Select(m => m.Value).ToArray();
        var fold = Calibrator.Fold(card, new CalibrationSample(values, facts.AgeDays(AsOf), false));

        // seats 25 (0..1), active 30 (0..10), users 50 (5 of 10): (10*25 + 20*30 + 30*50) / 60 = 39.17
        Assert.That(fold, Is.EqualTo(2350 / 60d).Within(1e-9));
        Assert.That(engine.Score, Is.EqualTo((int)Math.Round(fold!.Value, MidpointRounding.AwayFromZero)));
    }

    /// <summary>10 observations at each value; churned: 8 of those at 0, 5 at 5, 1 at 10 (retained 20%, 50%, 90%).</summary>
    private static List<(double Value, bool Churned)> Steps(params (double Value, int Churned)[] groups) =>
        groups.SelectMany(g => Enumerable.Range(0, 10).Select(i => (g.Value, i < g.Churned))).ToList();

    [Test]
    public void FitBands_ScoresEachBandByItsRetention_StretchedTo0To100()
    {
        var sorted = Steps((0, 8), (5, 5), (10, 1));

        var bands = Calibrator.FitBands(sorted, 5, ascending: true)!;

        // Retention 0.2, 0.5, 0.9: scores 0, (0.5 - 0.2) / 0.7 = 43, 100.
        Assert.That(bands.Type, Is.EqualTo(ScoringFunction.BandsType));
        Assert.That(bands.Bands, Is.EqualTo(new[] { new ScoreBand(0, 0), new ScoreBand(5, 43), new ScoreBand(10, 100) }));
        Assert.That(ScorecardValidator.Validate(TwoMeasureCard(1, 1) with
        {
            Dimensions = [.. TwoMeasureCard(1, 1).Dimensions.Select(d => d with { Measures = [.. d.Measures.Select(m => m with { Scoring = bands })] })],
        }), Is.Empty);
    }

    [Test]
    public void FitBands_PoolsBandsThatRunAgainstTheMeasuresDirection()
    {
        // Retention 0.2, 0.6, 0.5 with higher values meant to score higher: the last two pool at 0.55.
        var sorted = Steps((0, 8), (5, 4), (10, 5));

        var bands = Calibrator.FitBands(sorted, 5, ascending: true)!;
        Assert.That(bands.Bands, Is.EqualTo(new[] { new ScoreBand(0, 0), new ScoreBand(5, 100) }));

        // The same data for a measure where higher values should score lower: nothing separates in that direction.
        Assert.That(Calibrator.FitBands(Steps((0, 8), (5, 5), (10, 1)), 5, ascending: false), Is.Null);
    }

    [Test]
    public void Percentages_AreWholeNumbersSummingTo100_NoneBelowOne()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Calibrator.Percentages([1, 1, 1]), Is.EqualTo(new double[] { 34, 33, 33 }));
            Assert.That(Calibrator.Percentages([1000, 1]), Is.EqualTo(new double[] { 99, 1 }));
            Assert.That(Calibrator.Percentages([3]), Is.EqualTo(new double[] { 100 }));
            Assert.That(Calibrator.Percentages([0.2, 0.3, 0.5]), Is.EqualTo(new double[] { 20, 30, 50 }));
        });
    }

    [TestCase(0.1234, 0.12)]
    [TestCase(1234, 1200)]
    [TestCase(7, 7)]
    [TestCase(0, 0)]
    [TestCase(-0.0456, -0.046)]
    public void Nice_RoundsToTwoSignificantDigits(double value, double expected) =>
        Assert.That(Calibrator.Nice(value), Is.EqualTo(expected).Within(1e-12));
}
