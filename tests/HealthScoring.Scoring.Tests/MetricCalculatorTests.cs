using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using static HealthScoring.Scoring.Tests.Builders;

namespace HealthScoring.Scoring.Tests;

public sealed class MetricCalculatorTests
{
    private static MetricValue Compute(string metric, AccountFacts facts, UsageHistory usage, int window = 30, Scorecard? card = null, string? eventName = null, int minDays = 2) =>
        MetricCalculator.Compute(
            new MeasureDefinition { Key = "m", Metric = metric, WindowDays = window, EventName = eventName, MinActiveDays = minDays, Scoring = ScoringFunction.LinearBetween(0, 1) },
            card ?? Card(), facts, usage, AsOf);

    [Test]
    public void SeatUtilisation_IsDistinctUsersInWindowOverSeats()
    {
        var usage = History(Active(0, 1, "a", "b"), Active(29, 1, "c"), Active(30, 1, "d"));

        var value = Compute(MetricNames.SeatUtilisation, Facts(seats: 50), usage);

        Assert.That(value.Value, Is.EqualTo(3 / 50d));
        Assert.That(value.Explanation, Is.EqualTo("3 of 50 seats active in the last 30 days"));
    }

    [TestCase(null)]
    [TestCase(0)]
    public void SeatUtilisation_WithoutSeats_IsNa(int? seats) =>
        Assert.That(Compute(MetricNames.SeatUtilisation, Facts(seats: seats), History(Active(0, 1, "a"))).Value, Is.Null);

    [Test]
    public void ActiveDays_CountsDaysWithEventsInTheWindowOnly()
    {
        var usage = History(Active(0), Active(5), Active(27), Active(28), Day(AsOf.AddDays(-3), ["login:0:0"]), Day(AsOf.AddDays(1), ["login:1"]));

        var value = Compute(MetricNames.ActiveDays, Facts(), usage, window: 28);

        Assert.That(value.Value, Is.EqualTo(3));
        Assert.That(value.Explanation, Is.EqualTo("Active on 3 of the last 28 days"));
    }

    [Test]
    public void DaysSinceLastActivity_IgnoresDaysAfterAsOf()
    {
        var value = Compute(MetricNames.DaysSinceLastActivity, Facts(), History(Active(12), Day(AsOf.AddDays(2), ["login:3"])));

        Assert.That(value.Value, Is.EqualTo(12));
        Assert.That(value.Explanation, Is.EqualTo("Last activity 12 days ago"));
    }

    [Test]
    public void DaysSinceLastActivity_NeverActive_IsNa() =>
        Assert.That(Compute(MetricNames.DaysSinceLastActivity, Facts(), UsageHistory.Empty).Value, Is.Null);

    [Test]
    public void UsageTrend_IsLastWindowOverTheWindowBefore()
    {
        var usage = History(Active(0, 30), Active(13, 30), Active(14, 100), Active(27, 100), Active(28, 1000));

        var value = Compute(MetricNames.UsageTrend, Facts(), usage, window: 14);

        Assert.That(value.Value, Is.EqualTo(0.3));
        Assert.That(value.Explanation, Is.EqualTo("Activity down 70% (60 events in the last 14 days vs 200 in the 14 days before)"));
    }

    [Test]
    public void UsageTrend_NoBaseline_IsNa() =>
        Assert.That(Compute(MetricNames.UsageTrend, Facts(), History(Active(0, 50)), window: 14).Value, Is.Null);

    [Test]
    public void OnboardingMilestones_CountEverSeenUpToAsOf_AndNameTheMissing()
    {
        var card = Card() with { OnboardingMilestones = ["workspace.created", "user.invited", "integration.connected"] };
        var usage = History(Day(AsOf.AddDays(-300), ["workspace.created:1"]), Day(AsOf.AddDays(3), ["user.invited:1"]));

        var value = Compute(MetricNames.OnboardingMilestones, Facts(), usage, card: card);

        Assert.That(value.Value, Is.EqualTo(1 / 3d));
        Assert.That(value.Explanation, Is.EqualTo("1 of 3 onboarding milestones reached (missing: user.invited, integration.connected)"));
    }

    [Test]
    public void FeatureBreadth_CountsDistinctKeyFeaturesInWindow()
    {
        var card = Card() with { KeyFeatures = ["report", "export", "share", "api"] };
        var usage = History(Day(AsOf, ["report:3", "login:9"]), Day(AsOf.AddDays(-10), ["export:1", "report:1"]), Day(AsOf.AddDays(-40), ["api:1"]));

        var value = Compute(MetricNames.FeatureBreadth, Facts(), usage, card: card);

        Assert.That(value.Value, Is.EqualTo(0.5));
        Assert.That(value.Explanation, Is.EqualTo("2 of 4 key features used in the last 30 days"));
    }

    [Test]
    public void FeatureBreadth_NoKeyFeaturesConfigured_IsNa() =>
        Assert.That(Compute(MetricNames.FeatureBreadth, Facts(), History(Active(0))).Value, Is.Null);

    [Test]
    public void Stickiness_IsShareOfUsersActiveOnAtLeastMinDays()
    {
        var usage = History(Active(0, 1, "a", "b"), Active(3, 1, "a", "c"), Active(9, 1, "a", "b", "d"));

        var value = Compute(MetricNames.Stickiness, Facts(), usage, minDays: 2);

        Assert.That(value.Value, Is.EqualTo(0.5));
        Assert.That(value.Explanation, Is.EqualTo("2 of 4 active users were active on 2+ days in the last 30 days"));
    }

    [Test]
    public void Stickiness_NoUsers_IsNa() =>
        Assert.That(Compute(MetricNames.Stickiness, Facts(), History(Active(0, 5))).Value, Is.Null);

    [Test]
    public void GoalAttainment_IsMeanOfCappedRatios()
    {
        var facts = Facts(goals: [new Goal("invoice.sent", 100, 30), new Goal("report", 10, 7)]);
        var usage = History(Day(AsOf, ["invoice.sent:2:40", "report:1:30"]), Day(AsOf.AddDays(-20), ["invoice.sent:1:10", "report:1:5"]));

        var value = Compute(MetricNames.GoalAttainment, facts, usage);

        // invoice 50/100 = 0.5; report 30/10 = 3 capped at 1.5: mean 1.0
        Assert.That(value.Value, Is.EqualTo(1.0));
        Assert.That(value.Explanation, Does.StartWith("Goals: 'invoice.sent' 50 of 100 in the last 30 days (50%)"));
    }

    [Test]
    public void Nps_IsTheLatestAnswer()
    {
        var usage = History(Day(AsOf.AddDays(-100), ["nps:1:9"]), Day(AsOf.AddDays(-5), ["nps:2:8"]));

        var value = Compute(MetricNames.Nps, Facts(), usage, window: 365);

        Assert.That(value.Value, Is.EqualTo(4));
        Assert.That(value.Explanation, Does.StartWith("Latest NPS answer: 4"));
    }

    [Test]
    public void EventCount_FiltersByEventName()
    {
        var usage = History(Day(AsOf, ["a:3", "b:4"]), Day(AsOf.AddDays(-31), ["a:100"]));

        Assert.That(Compute(MetricNames.EventCount, Facts(), usage).Value, Is.EqualTo(7));
        Assert.That(Compute(MetricNames.EventCount, Facts(), usage, eventName: "a").Value, Is.EqualTo(3));
    }

    [TestCaseSource(typeof(MetricNames), nameof(MetricNames.All))]
    public void AnyMetric_BeforeTheFirstUsage_IsNaNotZero(string metric)
    {
        var facts = Facts(seats: 10, goals: new Goal("x", 1, 30));

        var value = Compute(metric, facts, History(Active(-3, 5, "a")));

        Assert.That(value.Value, Is.Null);
        Assert.That(value.Explanation, Is.EqualTo("No usage recorded yet"));
    }

    [Test]
    public void ActiveDays_ActiveBeforeButNotInWindow_IsZeroNotNa() =>
        Assert.That(Compute(MetricNames.ActiveDays, Facts(), History(Active(60)), window: 28).Value, Is.Zero);
}
