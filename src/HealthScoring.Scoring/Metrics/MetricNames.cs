namespace HealthScoring.Scoring.Metrics;

/// <summary>The metrics a measure can read. Each is computed from daily usage and CRM facts as of a day.</summary>
public static class MetricNames
{
    /// <summary>Distinct active users in the window / seats purchased. N/A without seats.</summary>
    public const string SeatUtilisation = "seat_utilisation";

    /// <summary>Share of the scorecard's onboarding milestones ever seen. N/A when none are configured.</summary>
    public const string OnboardingMilestones = "onboarding_milestones";

    /// <summary>Days with any event in the window.</summary>
    public const string ActiveDays = "active_days";

    /// <summary>Days since the last day with any event. N/A for an account never active.</summary>
    public const string DaysSinceLastActivity = "days_since_last_activity";

    /// <summary>Events in the last window / events in the window before (1 = flat). N/A without a baseline.</summary>
    public const string UsageTrend = "usage_trend";

    /// <summary>Distinct key features used in the window / key features configured. N/A when none are configured.</summary>
    public const string FeatureBreadth = "feature_breadth";

    /// <summary>Share of the window's active users active on at least MinActiveDays days. N/A without users.</summary>
    public const string Stickiness = "stickiness";

    /// <summary>Mean over the account's goals of (goal metric quantity in its window / target), each capped at 1.5. N/A without goals.</summary>
    public const string GoalAttainment = "goal_attainment";

    /// <summary>The latest NPS answer (0-10) in the window. N/A when none was sent.</summary>
    public const string Nps = "nps";

    /// <summary>Events in the window (of EventName, or all).</summary>
    public const string EventCount = "event_count";

    /// <summary>Quantity in the window (of EventName, or all).</summary>
    public const string Quantity = "quantity";

    /// <summary>Distinct active users in the window.</summary>
    public const string ActiveUsers = "active_users";

    public static readonly IReadOnlyList<string> All =
    [
        SeatUtilisation, OnboardingMilestones, ActiveDays, DaysSinceLastActivity, UsageTrend, FeatureBreadth,
        Stickiness, GoalAttainment, Nps, EventCount, Quantity, ActiveUsers,
    ];
}
