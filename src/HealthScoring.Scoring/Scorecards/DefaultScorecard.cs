using HealthScoring.Scoring.Metrics;

namespace HealthScoring.Scoring.Scorecards;

/// <summary>
/// The DEAR scorecard shipped as the default. Key features and onboarding milestones are product-specific,
/// so they start empty: those measures are N/A (their weight goes to their siblings) until configured.
/// </summary>
public static class DefaultScorecard
{
    public static Scorecard Create() => new()
    {
        Id = Scorecard.DefaultId,
        Version = 1,
        Name = "Default DEAR",
        Bands = new BandThresholds(40, 70),
        Dimensions =
        [
            new(DimensionKeys.Deployment, 25,
            [
                new MeasureDefinition
                {
                    Key = "seat_utilisation", Metric = MetricNames.SeatUtilisation, WindowDays = 30, Weight = 60,
                    Scoring = ScoringFunction.LinearBetween(0.1, 0.8),
                    // After onboarding (90 days) the same utilisation is worth less: the bar rises.
                    ScoringByAge = [new AgedScoring(90, ScoringFunction.LinearBetween(0.2, 0.9))],
                },
                new MeasureDefinition
                {
                    Key = "onboarding_milestones", Metric = MetricNames.OnboardingMilestones, Weight = 40,
                    Scoring = ScoringFunction.LinearBetween(0, 1),
                },
            ]),
            new(DimensionKeys.Engagement, 35,
            [
                new MeasureDefinition
                {
                    Key = "active_days", Metric = MetricNames.ActiveDays, WindowDays = 28, Weight = 40,
                    Scoring = ScoringFunction.LinearBetween(0, 20),
                },
                new MeasureDefinition
                {
                    Key = "days_since_last_activity", Metric = MetricNames.DaysSinceLastActivity, Weight = 35,
                    Scoring = ScoringFunction.LinearBetween(30, 1),
                },
                new MeasureDefinition
                {
                    Key = "usage_trend", Metric = MetricNames.UsageTrend, WindowDays = 14, Weight = 25,
                    Scoring = ScoringFunction.LinearBetween(0.5, 1.0),
                },
            ]),
            new(DimensionKeys.Adoption, 20,
            [
                new MeasureDefinition
                {
                    Key = "feature_breadth", Metric = MetricNames.FeatureBreadth, WindowDays = 30, Weight = 50,
                    Scoring = ScoringFunction.LinearBetween(0, 0.8),
                },
                new MeasureDefinition
                {
                    Key = "stickiness", Metric = MetricNames.Stickiness, WindowDays = 30, Weight = 50, MinActiveDays = 2,
                    Scoring = ScoringFunction.LinearBetween(0.1, 0.6),
                },
            ]),
            new(DimensionKeys.Roi, 20,
            [
                new MeasureDefinition
                {
                    Key = "goal_attainment", Metric = MetricNames.GoalAttainment, Weight = 70,
                    Scoring = ScoringFunction.LinearBetween(0, 1),
                },
                new MeasureDefinition
                {
                    Key = "nps", Metric = MetricNames.Nps, WindowDays = 365, Weight = 30,
                    // Detractors (0-6), passives (7-8), promoters (9-10).
                    Scoring = new ScoringFunction { Type = ScoringFunction.BandsType, Bands = [new(0, 0), new(7, 60), new(9, 100)] },
                },
            ]),
        ],
    };
}
