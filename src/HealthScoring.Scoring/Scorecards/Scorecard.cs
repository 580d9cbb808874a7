namespace HealthScoring.Scoring.Scorecards;

/// <summary>
/// A scorecard as data: four DEAR dimensions of weighted measures, band thresholds and the rule that says
/// which accounts it applies to. Weights are relative: they are normalised within their level.
/// </summary>
public sealed record Scorecard
{
    public const string DefaultId = "default";

    public required string Id { get; init; }

    /// <summary>Assigned by the store: 1 for the first version, +1 for every change.</summary>
    public int Version { get; init; }

    public required string Name { get; init; }

    /// <summary>Which accounts this scorecard is for; null for a scorecard chosen only as the default.</summary>
    public SegmentRule? AppliesTo { get; init; }

    /// <summary>Among several matching scorecards, the highest priority wins (then the smallest id).</summary>
    public int Priority { get; init; }

    public BandThresholds Bands { get; init; } = new();

    /// <summary>Event names that count as key features (feature breadth).</summary>
    public IReadOnlyList<string> KeyFeatures { get; init; } = [];

    /// <summary>Event names that mark onboarding milestones (reached once ever seen).</summary>
    public IReadOnlyList<string> OnboardingMilestones { get; init; } = [];

    /// <summary>The event name whose quantity is an NPS answer (0-10).</summary>
    public string NpsEvent { get; init; } = "nps";

    public required IReadOnlyList<DimensionDefinition> Dimensions { get; init; }

    /// <summary>Per risk rule (by type): on/off, severity, thresholds; rules not listed run with their defaults.</summary>
    public IReadOnlyDictionary<string, Risk.RiskRuleSettings> RiskRules { get; init; } = new Dictionary<string, Risk.RiskRuleSettings>();
}

/// <summary>red &lt; YellowFrom &lt;= yellow &lt; GreenFrom &lt;= green.</summary>
public sealed record BandThresholds(double YellowFrom = 40, double GreenFrom = 70);

/// <summary>An account matches when every given condition holds (empty lists match everything).</summary>
public sealed record SegmentRule
{
    public IReadOnlyList<string> Segments { get; init; } = [];

    public IReadOnlyList<string> Plans { get; init; } = [];

    /// <summary>Inclusive lower bound of the account's age in days (from contract start or first event).</summary>
    public int? MinAccountAgeDays { get; init; }

    /// <summary>Inclusive upper bound of the account's age in days, e.g. 90 for an onboarding scorecard.</summary>
    public int? MaxAccountAgeDays { get; init; }
}

public static class DimensionKeys
{
    public const string Deployment = "deployment";
    public const string Engagement = "engagement";
    public const string Adoption = "adoption";
    public const string Roi = "roi";

    public static readonly IReadOnlyList<string> All = [Deployment, Engagement, Adoption, Roi];
}

public sealed record DimensionDefinition(string Key, double Weight, IReadOnlyList<MeasureDefinition> Measures);

public sealed record MeasureDefinition
{
    public required string Key { get; init; }

    /// <summary>One of <see cref="Metrics.MetricNames"/>.</summary>
    public required string Metric { get; init; }

    public int WindowDays { get; init; } = 30;

    public double Weight { get; init; } = 1;

    public required ScoringFunction Scoring { get; init; }

    /// <summary>Stricter (or looser) scoring from a given account age on; the oldest matching entry wins.</summary>
    public IReadOnlyList<AgedScoring> ScoringByAge { get; init; } = [];

    /// <summary>For <c>event_count</c> / <c>quantity</c>: only this event name (all events when null).</summary>
    public string? EventName { get; init; }

    /// <summary>For <c>stickiness</c>: the days a user must be active on to count as sticky.</summary>
    public int MinActiveDays { get; init; } = 2;

    public ScoringFunction ScoringFor(int? ageDays)
    {
        // The entry with the largest FromAgeDays the age has reached; of equal ones, the last listed.
        AgedScoring? oldest = null;
        if (ageDays is { } age)
        {
            foreach (var aged in ScoringByAge)
            {
                if (age >= aged.FromAgeDays && (oldest is null || aged.FromAgeDays >= oldest.FromAgeDays))
                {
                    oldest = aged;
                }
            }
        }

        return oldest?.Scoring ?? Scoring;
    }
}

public sealed record AgedScoring(int FromAgeDays, ScoringFunction Scoring);

/// <summary>
/// Turns a measure's raw value into 0-100. <c>linear</c>: 0 at <see cref="ZeroAt"/>, 100 at <see cref="FullAt"/>,
/// straight in between, clamped outside (ZeroAt &gt; FullAt scores lower values higher). <c>bands</c>: the score
/// of the band with the largest <see cref="ScoreBand.From"/> not above the value.
/// </summary>
public sealed record ScoringFunction
{
    public const string Linear = "linear";
    public const string BandsType = "bands";

    public required string Type { get; init; }

    public double? ZeroAt { get; init; }

    public double? FullAt { get; init; }

    public IReadOnlyList<ScoreBand> Bands { get; init; } = [];

    public static ScoringFunction LinearBetween(double zeroAt, double fullAt) => new() { Type = Linear, ZeroAt = zeroAt, FullAt = fullAt };

    public double Score(double value)
    {
        if (Type == BandsType)
        {
            var score = 0d;
            foreach (var band in Bands.OrderBy(b => b.From))
            {
                if (value >= band.From)
                {
                    score = band.Score;
                }
            }

            return score;
        }

        var zero = ZeroAt!.Value;
        var full = FullAt!.Value;
        var t = (value - zero) / (full - zero);
        return 100 * Math.Clamp(t, 0, 1);
    }
}

public sealed record ScoreBand(double From, double Score);
