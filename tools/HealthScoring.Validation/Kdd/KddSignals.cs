using HealthScoring.Scoring.Metrics;

namespace HealthScoring.Validation.Kdd;

/// <summary>
/// The single signals the score is compared with, each over the enrollment's own window (window_start ..
/// window_end, both included) as of window_end, from the same usage the engine reads.
/// </summary>
public readonly record struct KddSignals(int DaysSinceLastActivity, int ActiveDays, long TotalEvents, bool NeverActive)
{
    public static KddSignals Of(KddEnrollment enrollment, UsageHistory usage)
    {
        var inWindow = usage.Days.Where(d => d.Day >= enrollment.WindowStart && d.Day <= enrollment.WindowEnd && d.Events > 0).ToList();
        if (inWindow.Count == 0)
        {
            // Never active in the window: as stale as the window allows (as if last active the day before it).
            return new KddSignals(enrollment.WindowDays, 0, 0, NeverActive: true);
        }

        return new KddSignals(
            enrollment.WindowEnd.DayNumber - inWindow[^1].Day.DayNumber,
            inWindow.Count,
            inWindow.Sum(d => d.Events),
            NeverActive: false);
    }

    /// <summary>True when the totals rebuilt from daily_activity.csv agree with those in enrollments.csv.</summary>
    public bool MatchesFile(KddEnrollment enrollment) =>
        TotalEvents == enrollment.FileTotalEvents
        && ActiveDays == enrollment.FileActiveDays
        && (NeverActive ? enrollment.FileLastActiveDate is null
            : enrollment.FileLastActiveDate is { } last && enrollment.WindowEnd.DayNumber - last.DayNumber == DaysSinceLastActivity);
}
