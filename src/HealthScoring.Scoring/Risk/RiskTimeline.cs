namespace HealthScoring.Scoring.Risk;

/// <summary>
/// One flag: a rule holding from <see cref="RaisedOn"/> until the day before <see cref="ClearedOn"/> (active while
/// that is null). Reason and evidence are those of the last day it held.
/// </summary>
public sealed record RiskEpisode(string Type, string Severity, DateOnly RaisedOn, DateOnly? ClearedOn, string Reason, IReadOnlyDictionary<string, object> Evidence)
{
    public bool IsActive => ClearedOn is null;
}

/// <summary>Turns day-by-day rule findings into flags: one per condition while it holds, cleared when it stops.</summary>
public static class RiskTimeline
{
    /// <summary>
    /// Replays <paramref name="days"/> in order, starting from the flags active the day before the first of them.
    /// Returns those flags (continued or cleared) followed by the flags raised during the replay.
    /// </summary>
    /// <param name="evaluate">The findings of a day, given the rule types active the day before.</param>
    public static IReadOnlyList<RiskEpisode> Replay(
        IReadOnlyList<RiskEpisode> activeBefore,
        IEnumerable<DateOnly> days,
        Func<DateOnly, IReadOnlySet<string>, IReadOnlyList<RiskFinding>> evaluate)
    {
        var episodes = new List<RiskEpisode>(activeBefore.Where(e => e.IsActive));
        var open = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < episodes.Count; i++)
        {
            open[episodes[i].Type] = i;
        }

        foreach (var day in days)
        {
            var findings = evaluate(day, open.Keys.ToHashSet(StringComparer.Ordinal));
            var holding = new HashSet<string>(StringComparer.Ordinal);
            foreach (var finding in findings)
            {
                holding.Add(finding.Type);
                if (open.TryGetValue(finding.Type, out var index))
                {
                    episodes[index] = episodes[index] with { Severity = finding.Severity, Reason = finding.Reason, Evidence = finding.Evidence };
                }
                else
                {
                    open[finding.Type] = episodes.Count;
                    episodes.Add(new RiskEpisode(finding.Type, finding.Severity, day, null, finding.Reason, finding.Evidence));
                }
            }

            foreach (var (type, index) in open.Where(o => !holding.Contains(o.Key)).ToList())
            {
                episodes[index] = episodes[index] with { ClearedOn = day };
                open.Remove(type);
            }
        }

        return episodes;
    }
}
