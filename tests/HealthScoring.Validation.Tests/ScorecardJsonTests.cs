using System.Text.Json;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Validation.Tests;

public sealed class ScorecardJsonTests
{
    private static string CommittedScorecard => RepoRoot.KddScorecard(
        RepoRoot.Find(TestContext.CurrentContext.TestDirectory) ?? throw new InvalidOperationException("Repository root not found."));

    [Test]
    public void CommittedKddScorecard_IsValidAndRoundTrips()
    {
        var card = ScorecardJson.Load(CommittedScorecard);
        var json = ScorecardJson.Serialize(card);

        Assert.Multiple(() =>
        {
            Assert.That(card.Id, Is.EqualTo("kdd-courses"));
            Assert.That(card.KeyFeatures, Is.EquivalentTo(new[] { "problem", "video", "discussion", "wiki", "navigate", "page_close", "access" }));
            Assert.That(card.Dimensions.Select(d => d.Key), Is.EquivalentTo(DimensionKeys.All));
            Assert.That(ScorecardJson.Serialize(ScorecardJson.Parse(json)), Is.EqualTo(json));
        });
    }

    [Test]
    public void CommittedKddScorecard_ReadsBothScoringTypes()
    {
        var measures = ScorecardJson.Load(CommittedScorecard).Dimensions.SelectMany(d => d.Measures).ToDictionary(m => m.Key);

        var events = measures["event_count"].Scoring;
        var recency = measures["days_since_last_activity"].Scoring;
        Assert.Multiple(() =>
        {
            Assert.That(events.Type, Is.EqualTo(ScoringFunction.BandsType));
            Assert.That(events.Score(9), Is.Zero);
            Assert.That(events.Score(10), Is.EqualTo(25));
            Assert.That(events.Score(5000), Is.EqualTo(100));
            Assert.That(recency.Type, Is.EqualTo(ScoringFunction.Linear));
            Assert.That(recency.Score(0), Is.EqualTo(100));
            Assert.That(recency.Score(7), Is.EqualTo(50));
            Assert.That(recency.Score(20), Is.Zero);
        });
    }

    [Test]
    public void DefaultScorecard_RoundTripsAndScoresTheSame()
    {
        var shipped = DefaultScorecard.Create();
        var copy = ScorecardJson.Parse(ScorecardJson.Serialize(shipped));
        var asOf = new DateOnly(2026, 6, 30);
        var usage = new UsageHistory(Enumerable.Range(0, 12).Select(i => new UsageDay(
            asOf.AddDays(-3 * i),
            new Dictionary<string, NameUsage> { ["login"] = new(i + 1, i + 1) },
            ["ann", i % 2 == 0 ? "bob" : "cy"])));
        var facts = new AccountFacts { AccountId = "acme", SeatsPurchased = 5, StartDate = asOf.AddDays(-200) };

        var expected = ScoringEngine.Score(shipped, facts, usage, asOf);
        var actual = ScoringEngine.Score(copy, facts, usage, asOf);

        Assert.Multiple(() =>
        {
            Assert.That(ScorecardJson.Serialize(copy), Is.EqualTo(ScorecardJson.Serialize(shipped)));
            Assert.That(actual.Score, Is.EqualTo(expected.Score));
            Assert.That(actual.Dimensions.Select(d => d.Score), Is.EqualTo(expected.Dimensions.Select(d => d.Score)));
        });
    }

    [Test]
    public void UnknownProperty_IsRejected()
    {
        var json = ScorecardJson.Serialize(DefaultScorecard.Create()).Replace("\"windowDays\"", "\"windowdays\"", StringComparison.Ordinal);

        Assert.That(() => ScorecardJson.Parse(json), Throws.InstanceOf<JsonException>());
    }

    [Test]
    public void InvalidScorecard_IsRejectedWithTheValidatorsPath()
    {
        var json = ScorecardJson.Serialize(DefaultScorecard.Create() with { Bands = new BandThresholds(80, 70) });

        Assert.That(() => ScorecardJson.Parse(json), Throws.TypeOf<InvalidDataException>().With.Message.Contains("bands"));
    }
}
