namespace HealthScoring.Scoring.Metrics;

/// <summary>A goal from the CRM: reach <see cref="Target"/> of the event <see cref="Metric"/>'s quantity within <see cref="WindowDays"/>.</summary>
public sealed record Goal(string Metric, double Target, int WindowDays);

/// <summary>What the CRM says about an account (all optional: missing facts make measures N/A, never 0).</summary>
public sealed record AccountFacts
{
    public required string AccountId { get; init; }

    public string? Segment { get; init; }

    public string? Plan { get; init; }

    public int? SeatsPurchased { get; init; }

    /// <summary>Contract start, else the day of the first event: the account's age is counted from it.</summary>
    public DateOnly? StartDate { get; init; }

    public DateOnly? RenewalDate { get; init; }

    public IReadOnlyList<Goal> Goals { get; init; } = [];

    /// <summary>The user whose silence is a warning sign (champion_inactive).</summary>
    public string? ChampionUserId { get; init; }

    /// <summary>The day the account churned, if it did: no risk flags hold from then on.</summary>
    public DateOnly? ChurnedOn { get; init; }

    /// <summary>Days since <see cref="StartDate"/> on <paramref name="asOf"/>; null when no start is known.</summary>
    public int? AgeDays(DateOnly asOf) => StartDate is { } start ? asOf.DayNumber - start.DayNumber : null;
}

/// <summary>One UTC day of an account's usage: events and quantity per event name, and the active users.</summary>
public sealed record UsageDay(DateOnly Day, IReadOnlyDictionary<string, NameUsage> Names, IReadOnlyCollection<string> Users)
{
    public long Events { get; } = NameUsageDictionary.TotalCount(Names);
}

public readonly record struct NameUsage(long Count, double Quantity);

/// <summary>An account's daily usage, ascending by day, and the first day each event name was ever seen.</summary>
public sealed class UsageHistory
{
    public UsageHistory(IEnumerable<UsageDay> days, IReadOnlyDictionary<string, DateOnly>? firstSeen = null)
    {
        // Loads and snapshot cuts hand days over in order already: sort only when they are not.
        _days = days.ToArray();
        if (!IsAscending(_days))
        {
            _days = _days.OrderBy(d => d.Day).ToArray();
        }

        FirstSeen = firstSeen ?? _days
            .SelectMany(d => d.Names.Keys.Select(n => (Name: n, d.Day)))
            .GroupBy(x => x.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Min(x => x.Day), StringComparer.Ordinal);
    }

    private static bool IsAscending(UsageDay[] days)
    {
        for (var i = 1; i < days.Length; i++)
        {
            if (days[i].Day < days[i - 1].Day)
            {
                return false;
            }
        }

        return true;
    }

    private readonly Dictionary<string, int[]> _byName = new(StringComparer.Ordinal);

    public static UsageHistory Empty { get; } = new([]);

    private readonly UsageDay[] _days;

    public IReadOnlyList<UsageDay> Days => _days;

    public IReadOnlyDictionary<string, DateOnly> FirstSeen { get; }

    /// <summary>
    /// The days in the window of <paramref name="days"/> days ending with <paramref name="asOf"/> (inclusive): a slice
    /// found by binary search, no allocation (a back-fill or a backtest scores hundreds of days of one history).
    /// </summary>
    public ReadOnlySpan<UsageDay> Window(DateOnly asOf, int days)
    {
        var first = FirstOnOrAfter(asOf.AddDays(1 - days));
        var end = FirstOnOrAfter(asOf.AddDays(1));
        return end > first ? _days.AsSpan(first, end - first) : [];
    }

    /// <summary>Events in the window (see <see cref="Window"/>).</summary>
    public long EventsIn(DateOnly asOf, int days)
    {
        long events = 0;
        foreach (var day in Window(asOf, days))
        {
            events += day.Events;
        }

        return events;
    }

    /// <summary>Distinct users active in the window (see <see cref="Window"/>).</summary>
    public int DistinctUsersIn(DateOnly asOf, int days)
    {
        // Asked several times per scored day (measures and risk rules): one set per thread, reused.
        var users = t_users ??= new HashSet<string>(StringComparer.Ordinal);
        users.Clear();
        foreach (var day in Window(asOf, days))
        {
            AddUsers(day.Users, users);
        }

        var count = users.Count;
        if (count > 10_000)
        {
            t_users = null; // do not keep a very large set alive
        }

        return count;
    }

    [ThreadStatic]
    private static HashSet<string>? t_users;

    /// <summary>Adds a day's users to a set.</summary>
    internal static void AddUsers(IReadOnlyCollection<string> dayUsers, HashSet<string> users)
    {
        foreach (var user in UsersOf(dayUsers))
        {
            users.Add(user);
        }
    }

    /// <summary>A day's users to loop over without boxing an enumerator (arrays and lists as they are, others copied).</summary>
    internal static ReadOnlySpan<string> UsersOf(IReadOnlyCollection<string> dayUsers) => dayUsers switch
    {
        string[] array => array,
        List<string> list => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list),
        _ => dayUsers.ToArray(),
    };

    /// <summary>The days of <see cref="Window"/>, latest first, without buffering them.</summary>
    public IEnumerable<UsageDay> WindowLatestFirst(DateOnly asOf, int days)
    {
        var from = asOf.AddDays(1 - days);
        for (var i = FirstOnOrAfter(asOf.AddDays(1)) - 1; i >= 0 && _days[i].Day >= from; i--)
        {
            yield return _days[i];
        }
    }

    /// <summary>
    /// The latest day in the window of <paramref name="days"/> days ending with <paramref name="asOf"/> with at least
    /// one <paramref name="name"/> event, and that event's usage. A search in the days that have the name (indexed
    /// on first use), not a walk back through the window: NPS answers are rare and their window is a year.
    /// </summary>
    public (UsageDay Day, NameUsage Usage)? LatestWith(string name, DateOnly asOf, int days)
    {
        int[] indices;
        lock (_byName)
        {
            if (!_byName.TryGetValue(name, out indices!))
            {
                _byName[name] = indices = Enumerable.Range(0, Days.Count)
                    .Where(i => Days[i].Names.TryGetValue(name, out var n) && n.Count > 0).ToArray();
            }
        }

        // The last index with the name whose day is on or before asOf.
        int low = 0, high = indices.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (Days[indices[middle]].Day <= asOf)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        if (low == 0 || Days[indices[low - 1]].Day < asOf.AddDays(1 - days))
        {
            return null;
        }

        var day = Days[indices[low - 1]];
        return (day, day.Names[name]);
    }

    /// <summary>The last day with any event on or before <paramref name="asOf"/>.</summary>
    public DateOnly? LastActiveDay(DateOnly asOf)
    {
        for (var i = FirstOnOrAfter(asOf.AddDays(1)) - 1; i >= 0; i--)
        {
            if (Days[i].Events > 0)
            {
                return Days[i].Day;
            }
        }

        return null;
    }

    /// <summary>The index of the first day on or after <paramref name="day"/> (<c>Days.Count</c> when none).</summary>
    private int FirstOnOrAfter(DateOnly day)
    {
        int low = 0, high = Days.Count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (Days[middle].Day < day)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
