using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Scoring.Tests;

/// <summary>Small builders for usage, facts and scorecards.</summary>
internal static class Builders
{
    public static readonly DateOnly AsOf = new(2026, 6, 30);

    public static AccountFacts Facts(int? seats = null, DateOnly? start = null, string? segment = null, string? plan = null, params Goal[] goals) =>
        new() { AccountId = "acme", SeatsPurchased = seats, StartDate = start, Segment = segment, Plan = plan, Goals = goals };

    /// <summary>A day of usage: "name:count[:quantity]" entries and the users active that day.</summary>
    public static UsageDay Day(DateOnly day, string[] names, params string[] users) => new(
        day,
        names.Select(n => n.Split(':')).ToDictionary(
            p => p[0],
            p => new NameUsage(long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture),
                p.Length > 2 ? double.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture) : long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)),
            StringComparer.Ordinal),
        users);

    public static UsageDay Active(int daysAgo, long events = 1, params string[] users) => Day(AsOf.AddDays(-daysAgo), [$"login:{events}"], users);

    public static UsageHistory History(params UsageDay[] days) => new(days);

    public static MeasureDefinition Measure(string key, string metric, double weight = 1, double zeroAt = 0, double fullAt = 10, int window = 30) => new()
    {
        Key = key, Metric = metric, Weight = weight, WindowDays = window, Scoring = ScoringFunction.LinearBetween(zeroAt, fullAt),
    };

    /// <summary>A scorecard with the given measures per dimension (dimension weights 1 each unless given).</summary>
    public static Scorecard Card(
        IReadOnlyList<MeasureDefinition>? deployment = null,
        IReadOnlyList<MeasureDefinition>? engagement = null,
        IReadOnlyList<MeasureDefinition>? adoption = null,
        IReadOnlyList<MeasureDefinition>? roi = null,
        double[]? weights = null,
        string id = Scorecard.DefaultId,
        SegmentRule? appliesTo = null,
        int priority = 0)
    {
        var w = weights ?? [1, 1, 1, 1];
        return new Scorecard
        {
            Id = id,
            Name = id,
            Version = 1,
            AppliesTo = appliesTo,
            Priority = priority,
            Dimensions =
            [
                new(DimensionKeys.Deployment, w[0], deployment ?? [Measure("seats", MetricNames.SeatUtilisation, zeroAt: 0, fullAt: 1)]),
                new(DimensionKeys.Engagement, w[1], engagement ?? [Measure("active", MetricNames.ActiveDays, zeroAt: 0, fullAt: 10)]),
                new(DimensionKeys.Adoption, w[2], adoption ?? [Measure("users", MetricNames.ActiveUsers, zeroAt: 0, fullAt: 10)]),
                new(DimensionKeys.Roi, w[3], roi ?? [Measure("goals", MetricNames.GoalAttainment, zeroAt: 0, fullAt: 1)]),
            ],
        };
    }
}
