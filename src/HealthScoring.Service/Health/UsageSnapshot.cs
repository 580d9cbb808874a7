using HealthScoring.Scoring.Metrics;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Health;

/// <summary>
/// What a stored usage snapshot covers: the load of <see cref="UsageLoadPlan"/> for scoring <see cref="ToDay"/>
/// (every row from <see cref="FullFrom"/>, the rows of <see cref="Names"/> from <see cref="NamedFrom"/>, the last
/// active day before the full range) and whether the first-seen days came with it.
/// </summary>
internal sealed record UsageSnapshotHeader(int FullFrom, int NamedFrom, int ToDay, IReadOnlySet<string> Names, bool WithFirstSeen);

/// <summary>
/// An account's usage as the scorer loaded it, kept after scoring (table usage_snapshots, with the account's change
/// counter at the load). When the UTC day rolls over every account is rescored, most without a single new event:
/// for those the snapshot, cut to the new day's load (<see cref="For"/>), is exactly what reading their rows again
/// would give, at one row per account instead of dozens.
/// </summary>
internal static class UsageSnapshot
{
    private const byte FormatVersion = 1;

    /// <summary>
    /// The history a fresh load for the given range would give, cut from a snapshot of an earlier load; null when the
    /// snapshot does not cover it (an earlier range, a name it did not load by name, first-seen days it lacks).
    /// Only valid while the account's change counter equals the snapshot's: no usage arrived since.
    /// </summary>
    public static UsageHistory? For(
        UsageSnapshotHeader header, UsageHistory usage, int fullFrom, int namedFrom, int toDay, IEnumerable<string> neededNames, bool withFirstSeen)
    {
        if (header.FullFrom > fullFrom || header.NamedFrom > namedFrom || header.ToDay > toDay
            || (withFirstSeen && !header.WithFirstSeen) || !neededNames.All(header.Names.Contains))
        {
            return null;
        }

        return Trim(usage, fullFrom, namedFrom, header.Names, withFirstSeen ? usage.FirstSeen : NoFirstSeen);
    }

    /// <summary>
    /// Cuts a history loaded from earlier days down to what the load of <paramref name="fullFrom"/> and
    /// <paramref name="namedFrom"/> reads (see <see cref="UsageLoadPlan"/>): days from <paramref name="fullFrom"/> as
    /// they are; before it, back to <paramref name="namedFrom"/>, the entries of <paramref name="names"/> and, for the
    /// last day with any usage, every entry; users only within the full range.
    /// </summary>
    public static UsageHistory Trim(UsageHistory usage, int fullFrom, int namedFrom, IReadOnlySet<string> names, IReadOnlyDictionary<string, DateOnly> firstSeen)
    {
        var lastBefore = -1;
        foreach (var day in usage.Days)
        {
            var number = UtcDay.FromDate(day.Day);
            if (number >= namedFrom && number < fullFrom)
            {
                lastBefore = number;
            }
        }

        var days = new List<UsageDay>(usage.Days.Count);
        foreach (var day in usage.Days)
        {
            var number = UtcDay.FromDate(day.Day);
            if (number >= fullFrom)
            {
                days.Add(day);
            }
            else if (number == lastBefore)
            {
                days.Add(day.Users.Count == 0 ? day : day with { Users = [] });
            }
            else if (number >= namedFrom)
            {
                var named = day.Names.Where(n => names.Contains(n.Key)).ToArray();
                if (named.Length > 0)
                {
                    days.Add(new UsageDay(day.Day, NameUsageDictionary.Create(named), []));
                }
            }
        }

        return new UsageHistory(days, firstSeen);
    }

    public static byte[] Encode(UsageSnapshotHeader header, UsageHistory usage)
    {
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        int Id(string value)
        {
            if (!strings.TryGetValue(value, out var id))
            {
                strings[value] = id = strings.Count;
            }

            return id;
        }

        // The body first (collecting the strings it refers to), then the string table ahead of it.
        using var bodyStream = new MemoryStream();
        using (var body = new BinaryWriter(bodyStream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            body.Write7BitEncodedInt(header.Names.Count);
            foreach (var name in header.Names)
            {
                body.Write7BitEncodedInt(Id(name));
            }

            body.Write7BitEncodedInt(usage.FirstSeen.Count);
            foreach (var (name, day) in usage.FirstSeen)
            {
                body.Write7BitEncodedInt(Id(name));
                body.Write7BitEncodedInt(day.DayNumber);
            }

            body.Write7BitEncodedInt(usage.Days.Count);
            foreach (var day in usage.Days)
            {
                body.Write7BitEncodedInt(day.Day.DayNumber);
                body.Write7BitEncodedInt(day.Names.Count);
                foreach (var (name, value) in day.Names)
                {
                    body.Write7BitEncodedInt(Id(name));
                    body.Write7BitEncodedInt64(value.Count);
                    body.Write(value.Quantity);
                }

                body.Write7BitEncodedInt(day.Users.Count);
                foreach (var user in day.Users)
                {
                    body.Write7BitEncodedInt(Id(user));
                }
            }
        }

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(FormatVersion);
            writer.Write7BitEncodedInt(header.FullFrom);
            writer.Write7BitEncodedInt(header.NamedFrom);
            writer.Write7BitEncodedInt(header.ToDay);
            writer.Write(header.WithFirstSeen);
            writer.Write7BitEncodedInt(strings.Count);
            foreach (var value in strings.Keys)
            {
                writer.Write(value);
            }

            writer.Write(bodyStream.GetBuffer(), 0, (int)bodyStream.Length);
        }

        return stream.ToArray();
    }

    /// <summary>The header and history of <see cref="Encode"/>; null for another format version (it is then reloaded).</summary>
    public static (UsageSnapshotHeader Header, UsageHistory Usage)? Decode(byte[] data)
    {
        using var reader = new BinaryReader(new MemoryStream(data, writable: false));
        if (reader.ReadByte() != FormatVersion)
        {
            return null;
        }

        var (fullFrom, namedFrom, toDay) = (reader.Read7BitEncodedInt(), reader.Read7BitEncodedInt(), reader.Read7BitEncodedInt());
        var withFirstSeen = reader.ReadBoolean();
        var strings = new string[reader.Read7BitEncodedInt()];
        for (var i = 0; i < strings.Length; i++)
        {
            strings[i] = reader.ReadString();
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = reader.Read7BitEncodedInt(); i > 0; i--)
        {
            names.Add(strings[reader.Read7BitEncodedInt()]);
        }

        var firstSeen = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        for (var i = reader.Read7BitEncodedInt(); i > 0; i--)
        {
            firstSeen[strings[reader.Read7BitEncodedInt()]] = DateOnly.FromDayNumber(reader.Read7BitEncodedInt());
        }

        var days = new UsageDay[reader.Read7BitEncodedInt()];
        for (var d = 0; d < days.Length; d++)
        {
            var day = DateOnly.FromDayNumber(reader.Read7BitEncodedInt());
            var entries = new KeyValuePair<string, NameUsage>[reader.Read7BitEncodedInt()];
            for (var i = 0; i < entries.Length; i++)
            {
                var name = strings[reader.Read7BitEncodedInt()];
                entries[i] = new(name, new NameUsage(reader.Read7BitEncodedInt64(), reader.ReadDouble()));
            }

            var users = new string[reader.Read7BitEncodedInt()];
            for (var i = 0; i < users.Length; i++)
            {
                users[i] = strings[reader.Read7BitEncodedInt()];
            }

            days[d] = new UsageDay(day, NameUsageDictionary.Create(entries), users);
        }

        return (new UsageSnapshotHeader(fullFrom, namedFrom, toDay, names, withFirstSeen), new UsageHistory(days, firstSeen));
    }

    private static readonly IReadOnlyDictionary<string, DateOnly> NoFirstSeen = new Dictionary<string, DateOnly>();
}
