using System.Globalization;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Scoring.Risk;

/// <summary>What the rules look at for one account on one day: the day's health and the usage behind it.</summary>
/// <param name="ScoreOn">The account's stored or just computed score on an earlier day (health_drop).</param>
public sealed record RiskContext(Scorecard Scorecard, AccountFacts Facts, UsageHistory Usage, HealthResult Health, Func<DateOnly, int?> ScoreOn)
{
    public DateOnly AsOf => Health.AsOf;
}

/// <summary>A rule that holds on a day, with the numbers behind it and a sentence a CSM can read.</summary>
public sealed record RiskFinding(string Type, string Severity, string Reason, IReadOnlyDictionary<string, object> Evidence);

/// <summary>Evaluates every enabled risk rule for one account on one day.</summary>
public static class RiskEvaluator
{
    /// <summary>usage_decline compares event counts only when the earlier window had at least this many events.</summary>
    public const int MinBaselineEvents = 10;

    /// <summary>usage_decline compares active users only when the earlier window had at least this many.</summary>
    public const int MinBaselineUsers = 3;

    /// <summary>How far back champion_inactive looks for the champion (the scorer loads users this far).</summary>
    public const int ChampionSearchDays = 30;

    /// <param name="active">The rule types whose flags were active the day before (hysteresis: they clear later than they rise).</param>
    public static IReadOnlyList<RiskFinding> Evaluate(RiskContext context, IReadOnlySet<string> active)
    {
        var facts = context.Facts;
        if (facts.ChurnedOn is { } churned && churned <= context.AsOf)
        {
            return [];
        }

        var findings = new List<RiskFinding>();
        var age = facts.AgeDays(context.AsOf);
        foreach (var rule in RiskRules.ResolveAll(context.Scorecard))
        {
            var type = rule.Type;
            if (!rule.Enabled
                || (facts.Segment is { } segment && rule.DisabledForSegments.Contains(segment, StringComparer.Ordinal))
                || (rule.MinAccountAgeDays > 0 && (age is null || age < rule.MinAccountAgeDays)))
            {
                continue;
            }

            if (Measure(rule, context) is { } m && rule.Holds(m.Value, active.Contains(type)))
            {
                var (reason, evidence) = m.Describe();
                findings.Add(new RiskFinding(type, rule.Severity, reason, evidence));
            }
        }

        return findings;
    }

    /// <summary>A rule's value, and how to explain it: built only for the rules that hold (most do not, on most days).</summary>
    private readonly record struct Measurement(double Value, Func<(string Reason, IReadOnlyDictionary<string, object> Evidence)> Describe)
    {
        public Measurement(double value, Func<string> reason, Func<IReadOnlyDictionary<string, object>> evidence)
            : this(value, () => (reason(), evidence()))
        {
        }
    }

    private static Measurement? Measure(ResolvedRiskRule rule, RiskContext c) => rule.Type switch
    {
        RiskRules.HealthRed => HealthRed(rule, c),
        RiskRules.HealthDrop => HealthDrop(rule, c),
        RiskRules.UsageDecline => UsageDecline(rule, c),
        RiskRules.Inactive => Inactive(rule, c),
        RiskRules.LowSeatUtilisation => LowSeats(rule, c),
        RiskRules.OnboardingStalled => Onboarding(rule, c),
        RiskRules.RenewalRisk => Renewal(rule, c),
        RiskRules.Detractor => Detractor(rule, c),
        RiskRules.ChampionInactive => Champion(rule, c),
        _ => null,
    };

    private static Measurement? HealthRed(ResolvedRiskRule rule, RiskContext c) => c.Health.Score is not { } score
        ? null
        : new(score, () => $"Health score {score} is below {N(rule.Threshold)}",
            () => new Dictionary<string, object> { ["score"] = score, ["threshold"] = rule.Threshold, ["clearAt"] = rule.ClearAt });

    private static Measurement? HealthDrop(ResolvedRiskRule rule, RiskContext c)
    {
        if (c.Health.Score is not { } score)
        {
            return null;
        }

        // The drop from the highest score of the window before today: a slide over several days counts in full.
        int? peak = null;
        var peakDay = c.AsOf;
        for (var day = c.AsOf.AddDays(-rule.WindowDays); day < c.AsOf; day = day.AddDays(1))
        {
            if (c.ScoreOn(day) is { } s && (peak is null || s > peak))
            {
                peak = s;
                peakDay = day;
            }
        }

        if (peak is not { } from)
        {
            return null;
        }

        var drop = from - score;
        return new(drop, () => $"Health score fell {drop} points in {Days(rule.WindowDays)} (from {from} on {D(peakDay)} to {score})",
            () => new Dictionary<string, object> { ["drop"] = drop, ["fromScore"] = from, ["fromDate"] = D(peakDay), ["score"] = score, ["windowDays"] = rule.WindowDays });
    }

    private static Measurement? UsageDecline(ResolvedRiskRule rule, RiskContext c)
    {
        var w = rule.WindowDays;
        var (eventsNow, eventsBefore) = (c.Usage.EventsIn(c.AsOf, w), c.Usage.EventsIn(c.AsOf.AddDays(-w), w));
        var (usersNow, usersBefore) = (c.Usage.DistinctUsersIn(c.AsOf, w), c.Usage.DistinctUsersIn(c.AsOf.AddDays(-w), w));
        double? eventsDecline = eventsBefore >= MinBaselineEvents ? 100.0 * (eventsBefore - eventsNow) / eventsBefore : null;
        double? usersDecline = usersBefore >= MinBaselineUsers ? 100.0 * (usersBefore - usersNow) / usersBefore : null;
        if (eventsDecline is null && usersDecline is null)
        {
            return null;
        }

        var byUsers = (usersDecline ?? double.MinValue) > (eventsDecline ?? double.MinValue);
        var decline = byUsers ? usersDecline!.Value : eventsDecline!.Value;
        return new(
            decline,
            () => byUsers
                ? $"Active users down {decline:0}% over the last {Days(w)} ({usersNow} vs {usersBefore} in the {Days(w)} before)"
                : $"Activity down {decline:0}% over the last {Days(w)} ({eventsNow} events vs {eventsBefore} in the {Days(w)} before)",
            () => new Dictionary<string, object>
            {
                ["windowDays"] = w, ["events"] = eventsNow, ["eventsBefore"] = eventsBefore, ["activeUsers"] = usersNow,
                ["activeUsersBefore"] = usersBefore, ["declinePercent"] = Math.Round(decline, 1),
            });
    }

    private static Measurement? Inactive(ResolvedRiskRule rule, RiskContext c)
    {
        if (c.Usage.LastActiveDay(c.AsOf) is not { } last)
        {
            return null;
        }

        var days = c.AsOf.DayNumber - last.DayNumber;
        return new(days, () => $"No activity for {Days(days)} (last on {D(last)})",
            () => new Dictionary<string, object> { ["daysSinceLastActivity"] = days, ["lastActivity"] = D(last), ["threshold"] = rule.Threshold });
    }

    private static Measurement? LowSeats(ResolvedRiskRule rule, RiskContext c)
    {
        if (c.Facts.SeatsPurchased is not > 0 || !HasUsage(c))
        {
            return null;
        }

        var seats = c.Facts.SeatsPurchased.Value;
        var users = c.Usage.DistinctUsersIn(c.AsOf, rule.WindowDays);
        var share = users / (double)seats;
        return new(share, () => $"{users} of {seats} seats active in the last {Days(rule.WindowDays)} ({share:0%}, below {rule.Threshold:0%})",
            () => new Dictionary<string, object> { ["activeUsers"] = users, ["seatsPurchased"] = seats, ["utilisation"] = Math.Round(share, 4), ["windowDays"] = rule.WindowDays });
    }

    private static Measurement? Onboarding(ResolvedRiskRule rule, RiskContext c)
    {
        var milestones = c.Scorecard.OnboardingMilestones;
        if (milestones.Count == 0)
        {
            return null;
        }

        var missing = milestones.Where(m => !c.Usage.FirstSeen.TryGetValue(m, out var first) || first > c.AsOf).ToList();
        var reached = milestones.Count - missing.Count;
        var age = c.Facts.AgeDays(c.AsOf) ?? 0;
        return new(reached / (double)milestones.Count,
            () => $"{reached} of {milestones.Count} onboarding milestones reached after {Days(age)} (missing: {string.Join(", ", missing)})",
            () => new Dictionary<string, object> { ["reached"] = reached, ["milestones"] = milestones.Count, ["missing"] = missing, ["accountAgeDays"] = age });
    }

    private static Measurement? Renewal(ResolvedRiskRule rule, RiskContext c)
    {
        if (c.Facts.RenewalDate is not { } renewal || c.Health.Score is not { } score)
        {
            return null;
        }

        var daysLeft = renewal.DayNumber - c.AsOf.DayNumber;
        if (daysLeft < 0 || daysLeft > rule.WindowDays)
        {
            return null;
        }

        var band = c.Health.Band?.ToString().ToLowerInvariant() ?? "unknown";
        return new(score, () => $"Renewal on {D(renewal)} in {Days(daysLeft)} with {band} health (score {score}, below {N(rule.Threshold)})",
            () => new Dictionary<string, object> { ["renewalDate"] = D(renewal), ["daysToRenewal"] = daysLeft, ["score"] = score, ["band"] = band });
    }

    private static Measurement? Detractor(ResolvedRiskRule rule, RiskContext c)
    {
        if (c.Usage.LatestWith(c.Scorecard.NpsEvent, c.AsOf, rule.WindowDays) is not var (day, n))
        {
            return null;
        }

        var nps = n.Quantity / n.Count;
        return new(nps, () => $"Latest NPS answer {N(nps)} on {D(day.Day)} (below {N(rule.Threshold)})",
            () => new Dictionary<string, object> { ["nps"] = nps, ["answeredOn"] = D(day.Day) });
    }

    private static Measurement? Champion(ResolvedRiskRule rule, RiskContext c)
    {
        if (c.Facts.ChampionUserId is not { } champion || !HasUsage(c))
        {
            return null;
        }

        foreach (var day in c.Usage.WindowLatestFirst(c.AsOf, ChampionSearchDays))
        {
            if (day.Users.Contains(champion))
            {
                var days = c.AsOf.DayNumber - day.Day.DayNumber;
                return new(days, () => $"Champion {champion} not active for {Days(days)} (last on {D(day.Day)})",
                    () => new Dictionary<string, object> { ["championUserId"] = champion, ["daysSinceActive"] = days, ["lastActive"] = D(day.Day) });
            }
        }

        // Not seen in the search window: quiet for at least that long, or since the account's earliest known usage.
        var quiet = Math.Min(ChampionSearchDays, c.AsOf.DayNumber - c.Usage.Days[0].Day.DayNumber);
        return new(quiet, () => $"Champion {champion} not active in the last {Days(quiet)}",
            () => new Dictionary<string, object> { ["championUserId"] = champion, ["daysSinceActive"] = quiet });
    }

    private static bool HasUsage(RiskContext c) => c.Usage.Days.Count > 0 && c.Usage.Days[0].Day <= c.AsOf;

    private static string D(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Days(int days) => days == 1 ? "1 day" : $"{days} days";
}
