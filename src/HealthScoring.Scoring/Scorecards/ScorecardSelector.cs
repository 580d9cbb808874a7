using HealthScoring.Scoring.Metrics;

namespace HealthScoring.Scoring.Scorecards;

/// <summary>
/// Picks an account's scorecard: among those whose rule matches, the highest priority (then the smallest
/// id); when none matches, the default scorecard.
/// </summary>
public static class ScorecardSelector
{
    public static Scorecard Select(IReadOnlyCollection<Scorecard> scorecards, AccountFacts facts, DateOnly asOf)
    {
        var match = scorecards
            .Where(s => s.AppliesTo is { } rule && Matches(rule, facts, asOf))
            .OrderByDescending(s => s.Priority)
            .ThenBy(s => s.Id, StringComparer.Ordinal)
            .FirstOrDefault();
        return match
            ?? scorecards.FirstOrDefault(s => s.Id == Scorecard.DefaultId)
            ?? throw new InvalidOperationException("No scorecard matches and there is no default scorecard.");
    }

    public static bool Matches(SegmentRule rule, AccountFacts facts, DateOnly asOf)
    {
        if (rule.Segments.Count > 0 && (facts.Segment is null || !rule.Segments.Contains(facts.Segment, StringComparer.OrdinalIgnoreCase)))
        {
            return false;
        }

        if (rule.Plans.Count > 0 && (facts.Plan is null || !rule.Plans.Contains(facts.Plan, StringComparer.OrdinalIgnoreCase)))
        {
            return false;
        }

        if (rule.MinAccountAgeDays is null && rule.MaxAccountAgeDays is null)
        {
            return true;
        }

        if (facts.StartDate is not { } start)
        {
            return false;
        }

        var age = asOf.DayNumber - start.DayNumber;
        return age >= (rule.MinAccountAgeDays ?? int.MinValue) && age <= (rule.MaxAccountAgeDays ?? int.MaxValue);
    }
}
