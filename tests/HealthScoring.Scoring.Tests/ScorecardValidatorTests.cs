using HealthScoring.Scoring.Scorecards;
using static HealthScoring.Scoring.Tests.Builders;

namespace HealthScoring.Scoring.Tests;

public sealed class ScorecardValidatorTests
{
    [Test]
    public void DefaultScorecard_IsValid() =>
        Assert.That(ScorecardValidator.Validate(DefaultScorecard.Create()), Is.Empty);

    private static IEnumerable<TestCaseData> Invalid()
    {
        var card = DefaultScorecard.Create();
        var measure = card.Dimensions[1].Measures[0];
        Scorecard WithMeasure(MeasureDefinition m) => card with
        {
            Dimensions = card.Dimensions.Select((d, i) => i == 1 ? d with { Measures = [m, .. d.Measures.Skip(1)] } : d).ToList(),
        };

        yield return new TestCaseData(card with { Id = "Bad Id" }, "id").SetName("Validate_BadId");
        yield return new TestCaseData(card with { Name = "" }, "name").SetName("Validate_MissingName");
        yield return new TestCaseData(card with { Bands = new BandThresholds(70, 40) }, "bands").SetName("Validate_BandsOutOfOrder");
        yield return new TestCaseData(card with { Dimensions = card.Dimensions.Take(3).ToList() }, "dimensions").SetName("Validate_MissingDimension");
        yield return new TestCaseData(card with { Dimensions = card.Dimensions.Select((d, i) => i == 0 ? d with { Weight = -1 } : d).ToList() }, "dimensions[0].weight").SetName("Validate_NegativeDimensionWeight");
        yield return new TestCaseData(WithMeasure(measure with { Metric = "vibes" }), "dimensions[1].measures[0].metric").SetName("Validate_UnknownMetric");
        yield return new TestCaseData(WithMeasure(measure with { WindowDays = 0 }), "dimensions[1].measures[0].windowDays").SetName("Validate_ZeroWindow");
        yield return new TestCaseData(WithMeasure(measure with { Weight = double.NaN }), "dimensions[1].measures[0].weight").SetName("Validate_NaNWeight");
        yield return new TestCaseData(WithMeasure(measure with { Scoring = ScoringFunction.LinearBetween(5, 5) }), "dimensions[1].measures[0].scoring").SetName("Validate_FlatLinear");
        yield return new TestCaseData(WithMeasure(measure with { Scoring = new ScoringFunction { Type = "cubic" } }), "dimensions[1].measures[0].scoring.type").SetName("Validate_UnknownScoringType");
        yield return new TestCaseData(WithMeasure(measure with { Scoring = new ScoringFunction { Type = "bands", Bands = [new(0, 150)] } }), "dimensions[1].measures[0].scoring.bands").SetName("Validate_BandScoreOver100");
        yield return new TestCaseData(WithMeasure(measure with { Key = "days_since_last_activity" }), "dimensions").SetName("Validate_DuplicateMeasureKey");
        yield return new TestCaseData(card with { AppliesTo = new SegmentRule { MinAccountAgeDays = 10, MaxAccountAgeDays = 5 } }, "appliesTo").SetName("Validate_AgeRangeInverted");
    }

    [TestCaseSource(nameof(Invalid))]
    public void Validate_InvalidScorecard_NamesTheField(Scorecard scorecard, string path) =>
        Assert.That(ScorecardValidator.Validate(scorecard).Keys, Does.Contain(path));
}
