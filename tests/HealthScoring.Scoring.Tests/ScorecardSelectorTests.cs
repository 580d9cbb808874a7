using HealthScoring.Scoring.Scorecards;
using static HealthScoring.Scoring.Tests.Builders;

namespace HealthScoring.Scoring.Tests;

public sealed class ScorecardSelectorTests
{
    private static readonly Scorecard[] Cards =
    [
        Card(),
        Card(id: "enterprise", appliesTo: new SegmentRule { Segments = ["Enterprise"] }, priority: 10),
        Card(id: "smb", appliesTo: new SegmentRule { Segments = ["smb"], Plans = ["starter", "growth"] }),
        Card(id: "onboarding", appliesTo: new SegmentRule { MaxAccountAgeDays = 90 }, priority: 20),
    ];

    [TestCase("enterprise", null, 400, "enterprise")]
    [TestCase("ENTERPRISE", null, 400, "enterprise")]
    [TestCase("enterprise", null, 30, "onboarding")]
    [TestCase("smb", "starter", 400, "smb")]
    [TestCase("smb", "enterprise-plan", 400, "default")]
    [TestCase(null, null, 400, "default")]
    [TestCase(null, null, 90, "onboarding")]
    [TestCase(null, null, 91, "default")]
    public void Select_PicksHighestPriorityMatch_ElseDefault(string? segment, string? plan, int ageDays, string expected)
    {
        var facts = Facts(segment: segment, plan: plan, start: AsOf.AddDays(-ageDays));

        Assert.That(ScorecardSelector.Select(Cards, facts, AsOf).Id, Is.EqualTo(expected));
    }

    [Test]
    public void Select_AgeRuleWithoutKnownStart_DoesNotMatch() =>
        Assert.That(ScorecardSelector.Select(Cards, Facts(), AsOf).Id, Is.EqualTo("default"));

    [Test]
    public void Select_EqualPriority_SmallestIdWins()
    {
        var cards = new[] { Card(), Card(id: "b", appliesTo: new SegmentRule()), Card(id: "a", appliesTo: new SegmentRule()) };

        Assert.That(ScorecardSelector.Select(cards, Facts(), AsOf).Id, Is.EqualTo("a"));
    }

    [Test]
    public void Select_NoMatchAndNoDefault_Throws() =>
        Assert.That(() => ScorecardSelector.Select([Card(id: "x", appliesTo: new SegmentRule { Segments = ["y"] })], Facts(), AsOf),
            Throws.InvalidOperationException);
}
