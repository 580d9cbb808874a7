using HealthScoring.Scoring.Metrics;
using static HealthScoring.Scoring.Tests.Builders;

namespace HealthScoring.Scoring.Tests;

/// <summary>The history's searches that replace walks through long windows.</summary>
public sealed class UsageHistoryTests
{
    private static readonly UsageHistory History = Builders.History(
        Day(AsOf.AddDays(-400), ["nps:1:9"]),
        Day(AsOf.AddDays(-200), ["nps:1:3", "login:2"]),
        Day(AsOf.AddDays(-100), ["login:1"]),
        Day(AsOf.AddDays(-50), ["nps:0:0"]),
        Day(AsOf.AddDays(-10), ["nps:2:16"]),
        Day(AsOf.AddDays(5), ["nps:1:1"]));

    [TestCase(0, 365, -10, 8.0)]      // the latest answer on or before asOf
    [TestCase(0, 11, -10, 8.0)]       // the window's first day (asOf - 10 in an 11-day window) is included
    [TestCase(0, 10, null, null)]     // one day short: none
    [TestCase(-11, 40, null, null)]   // the window reaches the day with 0 answers: that is no answer
    [TestCase(-11, 365, -200, 3.0)]   // before the latest answer, the one before that
    [TestCase(-201, 365, -400, 9.0)]
    [TestCase(-401, 365, null, null)] // before every answer
    public void LatestWith_FindsTheLatestDayWithTheName_InTheWindow(int asOfOffset, int window, int? expectedOffset, double? expectedNps)
    {
        var found = History.LatestWith("nps", AsOf.AddDays(asOfOffset), window);

        Assert.That(found?.Day.Day, Is.EqualTo(expectedOffset is { } o ? AsOf.AddDays(o) : (DateOnly?)null));
        Assert.That(found is var (_, n) ? n.Quantity / n.Count : (double?)null, Is.EqualTo(expectedNps));
    }

    [Test]
    public void DaysGivenOutOfOrder_AreKeptAscending()
    {
        var history = Builders.History(Day(AsOf.AddDays(-3), ["login:1"]), Day(AsOf.AddDays(-9), ["login:2"]), Day(AsOf, ["login:3"]));

        Assert.That(history.Days.Select(d => d.Day), Is.EqualTo(new[] { AsOf.AddDays(-9), AsOf.AddDays(-3), AsOf }));
        Assert.That(history.Window(AsOf, 7).Length, Is.EqualTo(2), "the window search relies on the order");
    }

    [Test]
    public void WindowLatestFirst_IsTheWindowReversed()
    {
        Assert.That(History.WindowLatestFirst(AsOf, 250).Select(d => d.Day), Is.EqualTo(History.Window(AsOf, 250).ToArray().Reverse().Select(d => d.Day)));
        Assert.That(History.WindowLatestFirst(AsOf, 250).Count(), Is.EqualTo(4));
    }
}
