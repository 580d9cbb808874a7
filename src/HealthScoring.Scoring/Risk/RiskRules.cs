namespace HealthScoring.Scoring.Risk;

/// <summary>The risk rules the engine ships, and their defaults.</summary>
public static class RiskRules
{
    public const string HealthRed = "health_red";
    public const string HealthDrop = "health_drop";
    public const string UsageDecline = "usage_decline";
    public const string Inactive = "inactive";
    public const string LowSeatUtilisation = "low_seat_utilisation";
    public const string OnboardingStalled = "onboarding_stalled";
    public const string RenewalRisk = "renewal_risk";
    public const string Detractor = "detractor";
    public const string ChampionInactive = "champion_inactive";

    public const string Low = "low";
    public const string Medium = "medium";
    public const string High = "high";

    public static readonly IReadOnlyList<string> Severities = [Low, Medium, High];

    /// <summary>
    /// Every rule with its defaults. <c>Threshold</c> raises the flag, <c>ClearAt</c> clears it (the gap between them
    /// is the hysteresis). For <see cref="RiskDirection.Below"/> rules a null threshold means "from the scorecard's
    /// bands" (health_red: below yellow; renewal_risk: below green).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, RiskRuleDefaults> Defaults = new Dictionary<string, RiskRuleDefaults>(StringComparer.Ordinal)
    {
        [HealthRed] = new(RiskDirection.Below, High, Threshold: null, ClearMargin: 5, WindowDays: 0, MinAccountAgeDays: 0),
        [HealthDrop] = new(RiskDirection.Above, Medium, Threshold: 15, ClearMargin: 5, WindowDays: 14, MinAccountAgeDays: 0),
        [UsageDecline] = new(RiskDirection.Above, Medium, Threshold: 30, ClearMargin: 10, WindowDays: 14, MinAccountAgeDays: 0),
        [Inactive] = new(RiskDirection.Above, High, Threshold: 14, ClearMargin: 7, WindowDays: 0, MinAccountAgeDays: 0),
        [LowSeatUtilisation] = new(RiskDirection.Below, Medium, Threshold: 0.30, ClearMargin: 0.05, WindowDays: 30, MinAccountAgeDays: 60),
        [OnboardingStalled] = new(RiskDirection.Below, Medium, Threshold: 1, ClearMargin: 0, WindowDays: 0, MinAccountAgeDays: 30),
        [RenewalRisk] = new(RiskDirection.Below, High, Threshold: null, ClearMargin: 5, WindowDays: 90, MinAccountAgeDays: 0),
        [Detractor] = new(RiskDirection.Below, Medium, Threshold: 7, ClearMargin: 0, WindowDays: 365, MinAccountAgeDays: 0),
        [ChampionInactive] = new(RiskDirection.Above, Medium, Threshold: 14, ClearMargin: 7, WindowDays: 0, MinAccountAgeDays: 0),
    };

    public static IReadOnlyList<string> All { get; } = [.. Defaults.Keys];

    /// <summary>The longest look-back of any rule's usage reads (usage decline compares two windows).</summary>
    public static int UsageLookbackDays(IReadOnlyDictionary<string, RiskRuleSettings> overrides) =>
        Math.Max(2 * Resolve(UsageDecline, overrides, null).WindowDays, Resolve(LowSeatUtilisation, overrides, null).WindowDays);

    /// <summary>How many days of earlier scores health_drop compares with.</summary>
    public static int ScoreLookbackDays(IReadOnlyDictionary<string, RiskRuleSettings> overrides) =>
        Resolve(HealthDrop, overrides, null).WindowDays;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Scorecards.Scorecard, ResolvedRiskRule[]> Resolved = new();

    /// <summary>Every rule's effective settings for a scorecard, resolved once per scorecard instance (scoring asks per account and day).</summary>
    public static IReadOnlyList<ResolvedRiskRule> ResolveAll(Scorecards.Scorecard scorecard) =>
        Resolved.GetValue(scorecard, card => [.. All.Select(type => Resolve(type, card.RiskRules, card.Bands))]);

    /// <summary>A rule's effective settings: the scorecard's override over the defaults.</summary>
    public static ResolvedRiskRule Resolve(string type, IReadOnlyDictionary<string, RiskRuleSettings> overrides, Scorecards.BandThresholds? bands)
    {
        var d = Defaults[type];
        var o = overrides.GetValueOrDefault(type);
        var threshold = o?.Threshold ?? d.Threshold ?? type switch
        {
            HealthRed => bands?.YellowFrom ?? 40,
            _ => bands?.GreenFrom ?? 70,
        };
        var clearAt = o?.ClearAt ?? (d.Direction == RiskDirection.Above ? threshold - d.ClearMargin : threshold + d.ClearMargin);
        return new ResolvedRiskRule(
            type,
            d.Direction,
            o?.Enabled ?? true,
            o?.Severity ?? d.Severity,
            threshold,
            clearAt,
            o?.WindowDays ?? d.WindowDays,
            o?.MinAccountAgeDays ?? d.MinAccountAgeDays,
            o?.DisabledForSegments ?? []);
    }
}

/// <summary>Whether a rule holds when its value is at or above the threshold, or below it.</summary>
public enum RiskDirection
{
    Above,
    Below,
}

public sealed record RiskRuleDefaults(RiskDirection Direction, string Severity, double? Threshold, double ClearMargin, int WindowDays, int MinAccountAgeDays);

/// <summary>
/// A scorecard's settings for one rule; every field is optional and falls back to <see cref="RiskRules.Defaults"/>.
/// </summary>
public sealed record RiskRuleSettings
{
    public bool? Enabled { get; init; }

    /// <summary>low, medium or high.</summary>
    public string? Severity { get; init; }

    /// <summary>The value at which the flag is raised (days, points, percent, a share or a score, by rule).</summary>
    public double? Threshold { get; init; }

    /// <summary>The value at which a raised flag clears; on the safe side of <see cref="Threshold"/>.</summary>
    public double? ClearAt { get; init; }

    /// <summary>The rule's window: days compared (health_drop, usage_decline), of seat use, before renewal, of NPS answers.</summary>
    public int? WindowDays { get; init; }

    /// <summary>The account age from which the rule applies (low seat use, stalled onboarding).</summary>
    public int? MinAccountAgeDays { get; init; }

    /// <summary>Account segments the rule is off for.</summary>
    public IReadOnlyList<string>? DisabledForSegments { get; init; }
}

public sealed record ResolvedRiskRule(
    string Type,
    RiskDirection Direction,
    bool Enabled,
    string Severity,
    double Threshold,
    double ClearAt,
    int WindowDays,
    int MinAccountAgeDays,
    IReadOnlyList<string> DisabledForSegments)
{
    /// <summary>Hysteresis: a flag is raised at the threshold and, once raised, holds until the value passes <see cref="ClearAt"/>.</summary>
    public bool Holds(double value, bool active) => Direction == RiskDirection.Above
        ? value >= (active ? ClearAt : Threshold)
        : value < (active ? ClearAt : Threshold);
}
