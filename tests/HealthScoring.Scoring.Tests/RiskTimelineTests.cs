using HealthScoring.Scoring.Risk;
using static HealthScoring.Scoring.Tests.Builders;

namespace HealthScoring.Scoring.Tests;

/// <summary>Flag lifecycle: one flag per condition while it holds, cleared when it stops, hysteresis across days.</summary>
public sealed class RiskTimelineTests
{
    private static readonly Dictionary<string, object> NoEvidence = [];

    private static RiskFinding Finding(string type, string reason = "r") => new(type, RiskRules.High, reason, NoEvidence);

    private static DateOnly D(int day) => AsOf.AddDays(day);

    private static IEnumerable<DateOnly> Days(int from, int to) => Enumerable.Range(from, to - from + 1).Select(D);

    [Test]
    public void AConditionHoldingOnSeveralDays_IsOneFlag_ClearedTheDayItStops()
    {
        var holds = new HashSet<DateOnly> { D(1), D(2), D(3) };
        var episodes = RiskTimeline.Replay([], Days(0, 5), (day, _) => holds.Contains(day) ? [Finding(RiskRules.Inactive, $"day {day.Day}")] : []);

        var flag = episodes.Single();
        Assert.That(flag.RaisedOn, Is.EqualTo(D(1)));
        Assert.That(flag.ClearedOn, Is.EqualTo(D(4)));
        Assert.That(flag.Reason, Is.EqualTo($"day {D(3).Day}"), "reason and evidence are those of the last day it held");
    }

    [Test]
    public void AFlagActiveBeforeTheReplay_IsContinued_NotDuplicated()
    {
        var before = new RiskEpisode(RiskRules.Inactive, RiskRules.High, D(-10), null, "old", NoEvidence);
        var episodes = RiskTimeline.Replay([before], Days(0, 2), (_, _) => [Finding(RiskRules.Inactive, "new")]);

        var flag = episodes.Single();
        Assert.That(flag.RaisedOn, Is.EqualTo(D(-10)));
        Assert.That(flag.IsActive, Is.True);
        Assert.That(flag.Reason, Is.EqualTo("new"));
    }

    [Test]
    public void TheEvaluatorSeesYesterdaysActiveFlags_SoHysteresisWorksAcrossDays()
    {
        // A value hovering between clearAt (7) and threshold (14): raised once at 14, then held.
        var values = new Dictionary<DateOnly, double> { [D(0)] = 10, [D(1)] = 14, [D(2)] = 12, [D(3)] = 9, [D(4)] = 13, [D(5)] = 6, [D(6)] = 12 };
        var rule = RiskRules.Resolve(RiskRules.Inactive, new Dictionary<string, RiskRuleSettings>(), null);
        var episodes = RiskTimeline.Replay([], Days(0, 6), (day, active) =>
            rule.Holds(values[day], active.Contains(RiskRules.Inactive)) ? [Finding(RiskRules.Inactive)] : []);

        var flag = episodes.Single();
        Assert.That((flag.RaisedOn, flag.ClearedOn), Is.EqualTo((D(1), (DateOnly?)D(5))));
    }

    [Test]
    public void AConditionReturning_RaisesANewFlag()
    {
        var holds = new HashSet<DateOnly> { D(0), D(3) };
        var episodes = RiskTimeline.Replay([], Days(0, 4), (day, _) => holds.Contains(day) ? [Finding(RiskRules.HealthRed)] : []);

        Assert.That(episodes.Select(e => (e.RaisedOn, e.ClearedOn)), Is.EqualTo(new[] { (D(0), (DateOnly?)D(1)), (D(3), (DateOnly?)D(4)) }));
    }
}
