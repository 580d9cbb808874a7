using HealthScoring.Scoring.Backtest;
using HealthScoring.Scoring.Engine;

namespace HealthScoring.Scoring.Tests;

/// <summary>Backtest arithmetic against small examples worked out by hand.</summary>
public sealed class BacktesterTests
{
    private static readonly DateOnly D0 = new(2026, 1, 1);

    private static BacktestObservation Obs(string account, int? score, bool churned, double? seats = null) => new(
        account, D0, score, score is null ? null : score < 40 ? Band.Red : score < 70 ? Band.Yellow : Band.Green,
        [seats is { } s ? (float)s : float.NaN], churned);

    private static readonly string[] Keys = ["seats"];

    [Test]
    public void Auc_RankSumWithTies()
    {
        // Risks of churners: 3, 2; of stayers: 2, 1. Pairs (churner > stayer): 3>2, 3>1, 2>1 = 3; tie 2=2 = 0.5. 3.5/4.
        Assert.That(Backtester.Auc([3, 2, 2, 1], [true, true, false, false]), Is.EqualTo(0.875));
        Assert.That(Backtester.Auc([1, 2], [true, true]), Is.Null, "one class only");
    }

    [Test]
    public void Evaluate_ScoreAucBandsLiftAndMeasures()
    {
        var observations = new[]
        {
            Obs("a", 20, churned: true, seats: 10),
            Obs("b", 30, churned: true, seats: 40),
            Obs("c", 35, churned: false, seats: 30),
            Obs("d", 60, churned: true, seats: 20),
            Obs("e", 80, churned: false, seats: 90),
            Obs("f", 90, churned: false, seats: null),
            Obs("g", null, churned: true),
        };

        var result = Backtester.Evaluate(observations, Keys, new Dictionary<string, DateOnly>(), new Dictionary<string, IReadOnlyList<(DateOnly, Band?)>>());

        // Risk = -score over the 6 scored: churners {-20, -30, -60}, stayers {-35, -80, -90}.
        // Pairs churner > stayer: -20 beats all 3, -30 beats all 3, -60 beats -80 and -90: 8 of 9.
        Assert.That(result.Auc, Is.EqualTo(8 / 9d).Within(1e-12));
        Assert.That((result.Accounts, result.Observations, result.ChurnedObservations), Is.EqualTo((7, 7, 4)));
        var red = result.Bands.Single(b => b.Band == "red");
        var green = result.Bands.Single(b => b.Band == "green");
        Assert.That((red.Accounts, red.Observations, red.Churned, red.ChurnRate), Is.EqualTo((3, 3, 2, 2 / 3d)));
        Assert.That((green.Observations, green.Churned, green.ChurnRate), Is.EqualTo((2, 0, 0d)));
        Assert.That(result.LiftRedOverGreen, Is.Null, "green never churned: no finite lift");

        // seats (risk = -value) over the 5 with a value: churners {-10, -40, -20}, stayers {-30, -90}.
        // -10 beats both, -20 beats both, -40 beats -90 only: 5 of 6.
        var seats = result.Measures.Single();
        Assert.That((seats.Key, seats.Observations, seats.Churned), Is.EqualTo(("seats", 5, 3)));
        Assert.That(seats.Auc, Is.EqualTo(5 / 6d).Within(1e-12));
    }

    [Test]
    public void Evaluate_CountsPerScoreStep_GiveTheSameAucsAsRanking()
    {
        // Whole-number scores, measure scores on the 0.1 grid, and a few off it (ranked exactly).
        var random = new Random(5);
        var observations = Enumerable.Range(0, 3000).Select(i =>
        {
            var score = random.Next(0, 101);
            var measure = i % 97 == 0 ? (float)(random.NextDouble() * 100) : random.Next(0, 1001) / 10f;
            var churned = random.NextDouble() < 0.8 - score / 150.0;
            return new BacktestObservation($"a{i % 400}", D0, score, null, [measure], churned);
        }).ToList();
        var labels = observations.Select(o => o.ChurnedWithinHorizon).ToList();

        var result = Backtester.Evaluate(observations, Keys, new Dictionary<string, DateOnly>(), new Dictionary<string, IReadOnlyList<(DateOnly, Band?)>>());

        Assert.That(result.Auc, Is.EqualTo(Backtester.Auc(observations.Select(o => -(double)o.Score!.Value).ToList(), labels)).Within(1e-12));
        Assert.That(result.Measures[0].Auc, Is.EqualTo(Backtester.Auc(observations.Select(o => -(double)o.MeasureScores[0]).ToList(), labels)).Within(1e-12));
        Assert.That(result.Auc, Is.GreaterThan(0.6), "the example carries signal");
    }

    [Test]
    public void Lift_IsRedChurnRateOverGreen()
    {
        var observations = new[]
        {
            Obs("a", 10, true), Obs("b", 10, true), Obs("c", 10, false), Obs("d", 10, false),
            Obs("e", 90, true), Obs("f", 90, false), Obs("g", 90, false), Obs("h", 90, false),
        };
        var result = Backtester.Evaluate(observations, Keys, new Dictionary<string, DateOnly>(), new Dictionary<string, IReadOnlyList<(DateOnly, Band?)>>());
        Assert.That(result.LiftRedOverGreen, Is.EqualTo(2.0), "0.5 / 0.25");
    }

    [Test]
    public void LeadTime_IsFromTheStartOfTheRedRunAtChurn_AndTheMedianOverChurners()
    {
        static (DateOnly, Band?) Day(int d, Band band) => (D0.AddDays(d), band);
        var churnDays = new Dictionary<string, DateOnly> { ["a"] = D0.AddDays(10), ["b"] = D0.AddDays(10), ["c"] = D0.AddDays(10), ["d"] = D0.AddDays(10) };
        var bands = new Dictionary<string, IReadOnlyList<(DateOnly, Band?)>>
        {
            // red from day 2, briefly yellow on day 4, red again from day 5 to churn: lead 10 - 5 = 5
            ["a"] = [Day(2, Band.Red), Day(3, Band.Red), Day(4, Band.Yellow), Day(5, Band.Red), Day(9, Band.Red)],
            // red from day 1 throughout: 9
            ["b"] = [Day(1, Band.Red), Day(9, Band.Red)],
            // green at the end: not warned
            ["c"] = [Day(1, Band.Red), Day(9, Band.Green)],
            // red from day 7; days on or after the churn are ignored: 3
            ["d"] = [Day(7, Band.Red), Day(10, Band.Green), Day(11, Band.Green)],
        };

        var result = Backtester.Evaluate([], Keys, churnDays, bands);

        Assert.That(result.ChurnsWarnedByRed, Is.EqualTo(3));
        Assert.That(result.MedianLeadTimeDays, Is.EqualTo(5), "median of 3, 5, 9");
        Assert.That(result.Churned, Is.EqualTo(4));
    }
}
