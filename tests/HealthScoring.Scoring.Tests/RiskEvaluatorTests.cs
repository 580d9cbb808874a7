using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Risk;
using HealthScoring.Scoring.Scorecards;
using static HealthScoring.Scoring.Tests.Builders;

namespace HealthScoring.Scoring.Tests;

/// <summary>Each rule at its threshold, one step either side, and its hysteresis (a raised flag clears later than it rises).</summary>
public sealed class RiskEvaluatorTests
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>();

    private static HealthResult Health(int? score, Band? band = null) =>
        new("acme", AsOf, score, band ?? (score is null ? null : score < 40 ? Band.Red : score < 70 ? Band.Yellow : Band.Green), "default", 1, [], []);

    private static IReadOnlyList<RiskFinding> Evaluate(
        int? score = 80, UsageHistory? usage = null, AccountFacts? facts = null, Scorecard? card = null,
        Func<DateOnly, int?>? scoreOn = null, IReadOnlySet<string>? active = null, Band? band = null) =>
        RiskEvaluator.Evaluate(
            new RiskContext(card ?? Card(), facts ?? Facts(), usage ?? History(Active(0, 20, "a")), Health(score, band), scoreOn ?? (_ => null)),
            active ?? None);

    private static bool Holds(IReadOnlyList<RiskFinding> findings, string type) => findings.Any(f => f.Type == type);

    private static HashSet<string> Flags(params string[] types) => new(types);

    [TestCase(39, false, true)]
    [TestCase(40, false, false)]
    [TestCase(44, true, true)] // raised: holds until 45
    [TestCase(45, true, false)]
    public void HealthRed_BelowYellowRaises_ClearsFiveAbove(int score, bool wasActive, bool holds)
    {
        var findings = Evaluate(score, active: wasActive ? Flags(RiskRules.HealthRed) : None);
        Assert.That(Holds(findings, RiskRules.HealthRed), Is.EqualTo(holds));
    }

    [Test]
    public void HealthRed_ThresholdFollowsTheScorecardBands()
    {
        var card = Card() with { Bands = new BandThresholds(50, 80) };
        Assert.That(Holds(Evaluate(45, card: card), RiskRules.HealthRed), Is.True);
        var f = Evaluate(45, card: card).Single(x => x.Type == RiskRules.HealthRed);
        Assert.That(f.Severity, Is.EqualTo(RiskRules.High));
        Assert.That(f.Reason, Is.EqualTo("Health score 45 is below 50"));
    }

    [TestCase(65, false, true)] // 80 -> 65: 15 points
    [TestCase(66, false, false)]
    [TestCase(70, true, true)] // raised: holds while the drop is 10+
    [TestCase(71, true, false)]
    public void HealthDrop_FifteenPointsFromTheWindowsPeak(int score, bool wasActive, bool holds)
    {
        // Peak 80 ten days ago, 75 the days around it.
        int? ScoreOn(DateOnly d) => d == AsOf.AddDays(-10) ? 80 : 75;
        var findings = Evaluate(score, scoreOn: ScoreOn, active: wasActive ? Flags(RiskRules.HealthDrop) : None);
        Assert.That(Holds(findings, RiskRules.HealthDrop), Is.EqualTo(holds));
    }

    [Test]
    public void HealthDrop_PeakOutsideTheWindowDoesNotCount()
    {
        int? ScoreOn(DateOnly d) => d == AsOf.AddDays(-15) ? 95 : 70;
        Assert.That(Holds(Evaluate(60, scoreOn: ScoreOn), RiskRules.HealthDrop), Is.False);
        var f = Evaluate(55, scoreOn: ScoreOn).Single(x => x.Type == RiskRules.HealthDrop);
        Assert.That(f.Evidence["drop"], Is.EqualTo(15));
        Assert.That(f.Evidence["fromScore"], Is.EqualTo(70));
    }

    [Test]
    public void HealthDrop_NoEarlierScores_IsNotApplicable() =>
        Assert.That(Holds(Evaluate(10), RiskRules.HealthDrop), Is.False);

    private static UsageHistory Windows(long before, long now, int usersBefore = 1, int usersNow = 1) => History(
        Day(AsOf.AddDays(-20), [$"login:{before}"], Enumerable.Range(0, usersBefore).Select(i => $"u{i}").ToArray()),
        Day(AsOf.AddDays(-3), [$"login:{Math.Max(now, 0)}"], Enumerable.Range(0, usersNow).Select(i => $"u{i}").ToArray()));

    [TestCase(100, 70, false, true)] // down 30%
    [TestCase(100, 71, false, false)]
    [TestCase(100, 80, true, true)] // raised: holds while down 20%+
    [TestCase(100, 81, true, false)]
    public void UsageDecline_ThirtyPercentFewerEvents(long before, long now, bool wasActive, bool holds)
    {
        var findings = Evaluate(usage: Windows(before, now), active: wasActive ? Flags(RiskRules.UsageDecline) : None);
        Assert.That(Holds(findings, RiskRules.UsageDecline), Is.EqualTo(holds));
    }

    [Test]
    public void UsageDecline_FewerActiveUsersCountsToo()
    {
        var f = Evaluate(usage: Windows(100, 100, usersBefore: 10, usersNow: 6)).Single(x => x.Type == RiskRules.UsageDecline);
        Assert.That(f.Reason, Does.StartWith("Active users down 40%"));
        Assert.That(f.Evidence["activeUsersBefore"], Is.EqualTo(10));
    }

    [Test]
    public void UsageDecline_TinyBaselinesAreNoise() =>
        Assert.That(Holds(Evaluate(usage: Windows(9, 0, usersBefore: 2, usersNow: 0)), RiskRules.UsageDecline), Is.False);

    [TestCase(14, false, true)]
    [TestCase(13, false, false)]
    [TestCase(7, true, true)]
    [TestCase(6, true, false)]
    public void Inactive_FourteenDaysWithoutActivity(int daysAgo, bool wasActive, bool holds)
    {
        var findings = Evaluate(usage: History(Active(daysAgo, 5, "a")), active: wasActive ? Flags(RiskRules.Inactive) : None);
        Assert.That(Holds(findings, RiskRules.Inactive), Is.EqualTo(holds));
    }

    [Test]
    public void Inactive_NoUsageEver_IsNotRaised() =>
        Assert.That(Holds(Evaluate(usage: UsageHistory.Empty), RiskRules.Inactive), Is.False);

    private static UsageHistory Users(int count) => History(Day(AsOf.AddDays(-1), ["login:5"], Enumerable.Range(0, count).Select(i => $"u{i}").ToArray()));

    [TestCase(29, 60, false, true)]
    [TestCase(30, 60, false, false)]
    [TestCase(29, 59, false, false)] // too young
    [TestCase(34, 60, true, true)]
    [TestCase(35, 60, true, false)]
    public void LowSeatUtilisation_UnderThirtyPercentAfterSixtyDays(int users, int ageDays, bool wasActive, bool holds)
    {
        var facts = Facts(seats: 100, start: AsOf.AddDays(-ageDays));
        var findings = Evaluate(usage: Users(users), facts: facts, active: wasActive ? Flags(RiskRules.LowSeatUtilisation) : None);
        Assert.That(Holds(findings, RiskRules.LowSeatUtilisation), Is.EqualTo(holds));
    }

    [TestCase(30, false, true)]
    [TestCase(29, false, false)]
    [TestCase(30, true, false)]
    public void OnboardingStalled_MilestonesMissingAfterThirtyDays(int ageDays, bool allReached, bool holds)
    {
        var card = Card() with { OnboardingMilestones = ["setup", "invite"] };
        var usage = History(Day(AsOf.AddDays(-2), allReached ? ["setup:1", "invite:1"] : ["setup:1"], "a"));
        var findings = Evaluate(usage: usage, card: card, facts: Facts(start: AsOf.AddDays(-ageDays)));
        Assert.That(Holds(findings, RiskRules.OnboardingStalled), Is.EqualTo(holds));
        if (holds)
        {
            Assert.That(findings.Single(f => f.Type == RiskRules.OnboardingStalled).Reason, Does.Contain("missing: invite"));
        }
    }

    [TestCase(90, 69, false, true)]
    [TestCase(91, 69, false, false)] // renewal too far
    [TestCase(90, 70, false, false)] // green
    [TestCase(-1, 10, false, false)] // renewal passed
    [TestCase(30, 74, true, true)] // raised: holds until 75
    [TestCase(30, 75, true, false)]
    public void RenewalRisk_RenewalWithinNinetyDaysAndNotGreen(int daysToRenewal, int score, bool wasActive, bool holds)
    {
        var facts = Facts() with { RenewalDate = AsOf.AddDays(daysToRenewal) };
        var findings = Evaluate(score, facts: facts, active: wasActive ? Flags(RiskRules.RenewalRisk) : None);
        Assert.That(Holds(findings, RiskRules.RenewalRisk), Is.EqualTo(holds));
    }

    [TestCase(6, true)]
    [TestCase(7, false)]
    [TestCase(0, true)]
    public void Detractor_LatestNpsZeroToSix(int nps, bool holds)
    {
        var usage = History(Day(AsOf.AddDays(-40), ["nps:1:9"], "a"), Day(AsOf.AddDays(-5), [$"nps:1:{nps}"], "a"));
        Assert.That(Holds(Evaluate(usage: usage), RiskRules.Detractor), Is.EqualTo(holds));
    }

    [Test]
    public void Detractor_OnlyTheLatestAnswerCounts()
    {
        var usage = History(Day(AsOf.AddDays(-40), ["nps:1:2"], "a"), Day(AsOf.AddDays(-5), ["nps:1:9"], "a"));
        Assert.That(Holds(Evaluate(usage: usage), RiskRules.Detractor), Is.False);
    }

    [TestCase(14, false, true)]
    [TestCase(13, false, false)]
    [TestCase(7, true, true)]
    [TestCase(6, true, false)]
    public void ChampionInactive_ChampionQuietForFourteenDays(int daysAgo, bool wasActive, bool holds)
    {
        var usage = History(Active(40, 5, "champ"), Active(daysAgo, 5, "champ"), Active(0, 5, "other"));
        var facts = Facts() with { ChampionUserId = "champ" };
        var findings = Evaluate(usage: usage, facts: facts, active: wasActive ? Flags(RiskRules.ChampionInactive) : None);
        Assert.That(Holds(findings, RiskRules.ChampionInactive), Is.EqualTo(holds));
    }

    [Test]
    public void ChampionInactive_NeverSeenInThirtyDays()
    {
        var usage = History(Active(45, 5, "other"), Active(0, 5, "other"));
        var f = Evaluate(usage: usage, facts: Facts() with { ChampionUserId = "champ" }).Single(x => x.Type == RiskRules.ChampionInactive);
        Assert.That(f.Evidence["daysSinceActive"], Is.EqualTo(30));
    }

    [Test]
    public void Rules_CanBeTurnedOffPerScorecardOrSegment_AndReconfigured()
    {
        var usage = History(Active(20, 5, "a"));
        var off = Card() with { RiskRules = new Dictionary<string, RiskRuleSettings> { [RiskRules.Inactive] = new() { Enabled = false } } };
        var bySegment = Card() with { RiskRules = new Dictionary<string, RiskRuleSettings> { [RiskRules.Inactive] = new() { DisabledForSegments = ["smb"] } } };
        var stricter = Card() with { RiskRules = new Dictionary<string, RiskRuleSettings> { [RiskRules.Inactive] = new() { Threshold = 30, ClearAt = 20, Severity = RiskRules.Low } } };

        Assert.That(Holds(Evaluate(usage: usage), RiskRules.Inactive), Is.True);
        Assert.That(Holds(Evaluate(usage: usage, card: off), RiskRules.Inactive), Is.False);
        Assert.That(Holds(Evaluate(usage: usage, card: bySegment, facts: Facts(segment: "smb")), RiskRules.Inactive), Is.False);
        Assert.That(Holds(Evaluate(usage: usage, card: bySegment, facts: Facts(segment: "enterprise")), RiskRules.Inactive), Is.True);
        Assert.That(Holds(Evaluate(usage: usage, card: stricter), RiskRules.Inactive), Is.False);
        Assert.That(Evaluate(usage: History(Active(31, 5, "a")), card: stricter).Single(f => f.Type == RiskRules.Inactive).Severity, Is.EqualTo(RiskRules.Low));
    }

    [Test]
    public void ChurnedAccounts_HoldNoFlags()
    {
        var facts = Facts() with { ChurnedOn = AsOf.AddDays(-1) };
        Assert.That(Evaluate(10, usage: History(Active(30, 5, "a")), facts: facts), Is.Empty);
    }

    [Test]
    public void Validator_RejectsUnknownRulesAndClearAtOnTheWrongSide()
    {
        var card = DefaultScorecard.Create() with
        {
            RiskRules = new Dictionary<string, RiskRuleSettings>
            {
                ["nope"] = new(),
                [RiskRules.Inactive] = new() { Threshold = 14, ClearAt = 20 },
                [RiskRules.HealthRed] = new() { Severity = "urgent" },
            },
        };
        var errors = ScorecardValidator.Validate(card);
        Assert.That(errors.Keys, Is.EquivalentTo(new[] { "riskRules.nope", "riskRules.inactive.clearAt", "riskRules.health_red.severity" }));
    }
}
