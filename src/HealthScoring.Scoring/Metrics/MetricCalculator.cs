using System.Globalization;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Scoring.Metrics;

/// <summary>A measure's raw value (null = no data, N/A) and the plain sentence that explains it.</summary>
public readonly record struct MetricValue(double? Value, string Explanation)
{
    public static MetricValue NotAvailable(string why) => new(null, why);
}

/// <summary>Computes the raw value of each metric for one account as of one day.</summary>
public static class MetricCalculator
{
    private const double GoalCap = 1.5;

    [ThreadStatic]
    private static Dictionary<string, int>? t_daysPerUser;

    public static MetricValue Compute(MeasureDefinition measure, Scorecard scorecard, AccountFacts facts, UsageHistory usage, DateOnly asOf)
    {
        if (usage.Days.Count == 0 || usage.Days[0].Day > asOf)
        {
            // An account that never sent usage has no data, not zero usage.
            return MetricValue.NotAvailable("No usage recorded yet");
        }

        var w = measure.WindowDays;
        return measure.Metric switch
        {
            MetricNames.SeatUtilisation => SeatUtilisation(facts, usage, asOf, w),
            MetricNames.OnboardingMilestones => Milestones(scorecard.OnboardingMilestones, usage, asOf),
            MetricNames.ActiveDays => ActiveDays(usage, asOf, w),
            MetricNames.DaysSinceLastActivity => DaysSince(usage, asOf),
            MetricNames.UsageTrend => Trend(usage, asOf, w),
            MetricNames.FeatureBreadth => Breadth(scorecard.KeyFeatures, usage, asOf, w),
            MetricNames.Stickiness => Stickiness(usage, asOf, w, measure.MinActiveDays),
            MetricNames.GoalAttainment => Goals(facts.Goals, usage, asOf),
            MetricNames.Nps => Nps(scorecard.NpsEvent, usage, asOf, w),
            MetricNames.EventCount => EventCount(measure.EventName, usage, asOf, w),
            MetricNames.Quantity => Quantity(measure.EventName, usage, asOf, w),
            MetricNames.ActiveUsers => ActiveUsers(usage, asOf, w),
            _ => throw new ArgumentException($"Unknown metric '{measure.Metric}'.", nameof(measure)),
        };
    }

    private static MetricValue SeatUtilisation(AccountFacts facts, UsageHistory usage, DateOnly asOf, int window)
    {
        if (facts.SeatsPurchased is not > 0)
        {
            return MetricValue.NotAvailable("No seat count known for this account");
        }

        var users = DistinctUsers(usage, asOf, window);
        return new(users / (double)facts.SeatsPurchased.Value,
            $"{users} of {facts.SeatsPurchased} seats active in the last {Days(window)}");
    }

    private static MetricValue Milestones(IReadOnlyList<string> milestones, UsageHistory usage, DateOnly asOf)
    {
        if (milestones.Count == 0)
        {
            return MetricValue.NotAvailable("No onboarding milestones configured");
        }

        var missing = milestones.Where(m => !usage.FirstSeen.TryGetValue(m, out var first) || first > asOf).ToList();
        var reached = milestones.Count - missing.Count;
        var sentence = $"{reached} of {milestones.Count} onboarding milestones reached";
        return new(reached / (double)milestones.Count, missing.Count == 0 ? sentence : $"{sentence} (missing: {string.Join(", ", missing)})");
    }

    private static MetricValue ActiveDays(UsageHistory usage, DateOnly asOf, int window)
    {
        var days = 0;
        foreach (var day in usage.Window(asOf, window))
        {
            days += day.Events > 0 ? 1 : 0;
        }

        return new(days, $"Active on {days} of the last {Days(window)}");
    }

    private static MetricValue DaysSince(UsageHistory usage, DateOnly asOf)
    {
        if (usage.LastActiveDay(asOf) is not { } last)
        {
            return MetricValue.NotAvailable("No activity recorded yet");
        }

        var days = asOf.DayNumber - last.DayNumber;
        return new(days, days == 0 ? "Active today" : $"Last activity {Days(days)} ago");
    }

    private static MetricValue Trend(UsageHistory usage, DateOnly asOf, int window)
    {
        var current = usage.EventsIn(asOf, window);
        var previous = usage.EventsIn(asOf.AddDays(-window), window);
        if (previous == 0)
        {
            return MetricValue.NotAvailable($"No activity in the {Days(window)} before the last {Days(window)} to compare with");
        }

        var ratio = current / (double)previous;
        var change = (ratio - 1) * 100;
        var direction = change >= 0 ? "up" : "down";
        return new(ratio, $"Activity {direction} {Math.Abs(change):0}% ({current} events in the last {Days(window)} vs {previous} in the {Days(window)} before)");
    }

    private static MetricValue Breadth(IReadOnlyList<string> features, UsageHistory usage, DateOnly asOf, int window)
    {
        if (features.Count == 0)
        {
            return MetricValue.NotAvailable("No key features configured");
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var day in usage.Window(asOf, window))
        {
            foreach (var feature in features)
            {
                if (day.Names.ContainsKey(feature))
                {
                    used.Add(feature);
                }
            }
        }

        return new(used.Count / (double)features.Count, $"{used.Count} of {features.Count} key features used in the last {Days(window)}");
    }

    private static MetricValue Stickiness(UsageHistory usage, DateOnly asOf, int window, int minDays)
    {
        // One counter per thread, reused: stickiness is computed for every scored day.
        var daysPerUser = t_daysPerUser ??= new Dictionary<string, int>(StringComparer.Ordinal);
        daysPerUser.Clear();
        foreach (var day in usage.Window(asOf, window))
        {
            foreach (var user in UsageHistory.UsersOf(day.Users))
            {
                System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(daysPerUser, user, out _)++;
            }
        }

        var (users, sticky) = (daysPerUser.Count, 0);
        foreach (var days in daysPerUser.Values)
        {
            sticky += days >= minDays ? 1 : 0;
        }

        if (users > 10_000)
        {
            t_daysPerUser = null; // do not keep a very large one alive
        }

        if (users == 0)
        {
            return MetricValue.NotAvailable($"No identified users active in the last {Days(window)}");
        }

        return new(sticky / (double)users,
            $"{sticky} of {users} active users were active on {minDays}+ days in the last {Days(window)}");
    }

    private static MetricValue Goals(IReadOnlyList<Goal> goals, UsageHistory usage, DateOnly asOf)
    {
        if (goals.Count == 0)
        {
            return MetricValue.NotAvailable("No goals set for this account");
        }

        var parts = new List<string>(goals.Count);
        var total = 0d;
        foreach (var goal in goals)
        {
            var reached = 0d;
            foreach (var day in usage.Window(asOf, goal.WindowDays))
            {
                reached += day.Names.TryGetValue(goal.Metric, out var n) ? n.Quantity : 0;
            }

            total += Math.Min(reached / goal.Target, GoalCap);
            parts.Add($"'{goal.Metric}' {Number(reached)} of {Number(goal.Target)} in the last {Days(goal.WindowDays)} ({reached / goal.Target:0%})");
        }

        return new(total / goals.Count, "Goals: " + string.Join("; ", parts));
    }

    private static MetricValue Nps(string npsEvent, UsageHistory usage, DateOnly asOf, int window)
    {
        if (usage.LatestWith(npsEvent, asOf, window) is var (day, n))
        {
            var score = n.Quantity / n.Count;
            return new(score, $"Latest NPS answer: {Number(score)} on {day.Day:yyyy-MM-dd}");
        }

        return MetricValue.NotAvailable($"No NPS answer in the last {Days(window)}");
    }

    private static MetricValue EventCount(string? eventName, UsageHistory usage, DateOnly asOf, int window)
    {
        long count = 0;
        foreach (var day in usage.Window(asOf, window))
        {
            count += eventName is null ? day.Events : day.Names.TryGetValue(eventName, out var n) ? n.Count : 0;
        }

        return new(count, $"{count} {(eventName is null ? "events" : $"'{eventName}' events")} in the last {Days(window)}");
    }

    private static MetricValue Quantity(string? eventName, UsageHistory usage, DateOnly asOf, int window)
    {
        var quantity = 0d;
        foreach (var day in usage.Window(asOf, window))
        {
            if (eventName is null)
            {
                // The day's total first, then the window's: the same order of floating-point additions as ever.
                var dayTotal = 0d;
                foreach (var n in day.Names.Values)
                {
                    dayTotal += n.Quantity;
                }

                quantity += dayTotal;
            }
            else if (day.Names.TryGetValue(eventName, out var n))
            {
                quantity += n.Quantity;
            }
        }

        return new(quantity, $"{Number(quantity)} {(eventName is null ? "units" : $"'{eventName}'")} in the last {Days(window)}");
    }

    private static MetricValue ActiveUsers(UsageHistory usage, DateOnly asOf, int window)
    {
        var users = DistinctUsers(usage, asOf, window);
        return new(users, $"{users} active users in the last {Days(window)}");
    }

    private static int DistinctUsers(UsageHistory usage, DateOnly asOf, int window) =>
        usage.DistinctUsersIn(asOf, window);

    private static string Days(int days) => days == 1 ? "1 day" : $"{days} days";

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
