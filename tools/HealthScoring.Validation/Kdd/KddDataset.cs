using System.Globalization;
using HealthScoring.Scoring.Metrics;

namespace HealthScoring.Validation.Kdd;

/// <summary>
/// One enrollment of enrollments.csv. <see cref="Dropout"/> is the label: no activity in the 10 days after
/// <see cref="WindowEnd"/>. The file's own totals are kept only to cross-check what we rebuild from the activity.
/// </summary>
public sealed record KddEnrollment(
    string EnrollmentId,
    string CourseKey,
    DateOnly WindowStart,
    DateOnly WindowEnd,
    bool Dropout,
    long FileTotalEvents,
    int FileActiveDays,
    DateOnly? FileLastActiveDate)
{
    /// <summary>Days in the window, both ends included (30 in this data).</summary>
    public int WindowDays => WindowEnd.DayNumber - WindowStart.DayNumber + 1;

    /// <summary>The account the service would see: enrollment = account, window start = contract start; no seats, no goals.</summary>
    public AccountFacts ToFacts() => new() { AccountId = EnrollmentId, StartDate = WindowStart };
}

/// <summary>
/// The KDD Cup 2015 (XuetangX) data as the service would see it: per enrollment, the account facts and the
/// daily usage (event type = event name; count = both the event count and the quantity; no users).
/// </summary>
public sealed class KddDataset
{
    public const string EnrollmentsFile = "enrollments.csv";
    public const string ActivityFile = "daily_activity.csv";

    private KddDataset(IReadOnlyList<KddEnrollment> enrollments, IReadOnlyDictionary<string, UsageHistory> usage, int activityRows, int rowsOutsideWindow)
    {
        Enrollments = enrollments;
        Usage = usage;
        ActivityRows = activityRows;
        RowsOutsideWindow = rowsOutsideWindow;
    }

    public IReadOnlyList<KddEnrollment> Enrollments { get; }

    public int ActivityRows { get; }

    /// <summary>Activity rows dated outside their enrollment's window (kept in the usage; expected 0).</summary>
    public int RowsOutsideWindow { get; }

    private IReadOnlyDictionary<string, UsageHistory> Usage { get; }

    /// <summary>The enrollment's usage; empty when it has no activity rows.</summary>
    public UsageHistory UsageOf(KddEnrollment enrollment) => Usage.GetValueOrDefault(enrollment.EnrollmentId, UsageHistory.Empty);

    public static KddDataset Load(string folder)
    {
        var enrollments = ReadEnrollments(Path.Combine(folder, EnrollmentsFile));
        var byId = enrollments.ToDictionary(e => e.EnrollmentId, StringComparer.Ordinal);
        var rows = ReadActivity(Path.Combine(folder, ActivityFile));

        var outside = 0;
        var perEnrollment = new Dictionary<string, Dictionary<DateOnly, Dictionary<string, long>>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!byId.TryGetValue(row.EnrollmentId, out var enrollment))
            {
                throw new InvalidDataException($"{ActivityFile}: enrollment {row.EnrollmentId} is not in {EnrollmentsFile}.");
            }

            if (row.Date < enrollment.WindowStart || row.Date > enrollment.WindowEnd)
            {
                outside++;
            }

            var days = perEnrollment.TryGetValue(row.EnrollmentId, out var d) ? d : perEnrollment[row.EnrollmentId] = [];
            var names = days.TryGetValue(row.Date, out var n) ? n : days[row.Date] = new Dictionary<string, long>(StringComparer.Ordinal);
            names[row.EventType] = names.GetValueOrDefault(row.EventType) + row.Count;
        }

        var usage = perEnrollment.ToDictionary(
            p => p.Key,
            p => new UsageHistory(p.Value.Select(day => new UsageDay(
                day.Key,
                day.Value.ToDictionary(x => x.Key, x => new NameUsage(x.Value, x.Value), StringComparer.Ordinal),
                []))),
            StringComparer.Ordinal);
        return new KddDataset(enrollments, usage, rows.Count, outside);
    }

    public static IReadOnlyList<KddEnrollment> ReadEnrollments(string path)
    {
        var csv = CsvFile.Read(path, "enrollment_id", "course_key", "window_start", "window_end", "dropout", "total_events", "active_days", "last_active_date");
        var result = new List<KddEnrollment>(csv.Rows.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (line, f) in csv.Rows)
        {
            try
            {
                var id = csv.Get(f, "enrollment_id");
                if (id.Length == 0 || !seen.Add(id))
                {
                    throw new FormatException($"empty or duplicate enrollment_id '{id}'");
                }

                var start = Date(csv.Get(f, "window_start"));
                var end = Date(csv.Get(f, "window_end"));
                if (end < start)
                {
                    throw new FormatException("window_end is before window_start");
                }

                var dropout = csv.Get(f, "dropout") switch
                {
                    "1" => true,
                    "0" => false,
                    var other => throw new FormatException($"dropout must be 0 or 1, not '{other}'"),
                };
                var last = csv.Get(f, "last_active_date");
                result.Add(new KddEnrollment(id, csv.Get(f, "course_key"), start, end, dropout,
                    long.Parse(csv.Get(f, "total_events"), CultureInfo.InvariantCulture),
                    int.Parse(csv.Get(f, "active_days"), CultureInfo.InvariantCulture),
                    last.Length == 0 ? null : Date(last)));
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{path}:{line}: {e.Message}", e);
            }
        }

        return result;
    }

    public static IReadOnlyList<KddActivityRow> ReadActivity(string path)
    {
        var csv = CsvFile.Read(path, "enrollment_id", "date", "event_type", "count");
        var result = new List<KddActivityRow>(csv.Rows.Count);
        foreach (var (line, f) in csv.Rows)
        {
            try
            {
                var eventType = csv.Get(f, "event_type");
                var count = long.Parse(csv.Get(f, "count"), CultureInfo.InvariantCulture);
                if (eventType.Length == 0 || count < 0)
                {
                    throw new FormatException("event_type must be set and count must not be negative");
                }

                result.Add(new KddActivityRow(csv.Get(f, "enrollment_id"), Date(csv.Get(f, "date")), eventType, count));
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{path}:{line}: {e.Message}", e);
            }
        }

        return result;
    }

    private static DateOnly Date(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>One row of daily_activity.csv: how many events of one type an enrollment had on one day.</summary>
public sealed record KddActivityRow(string EnrollmentId, DateOnly Date, string EventType, long Count);
