using System.Globalization;

namespace HealthScoring.Service.Health;

/// <summary>
/// Parses the packed texts of the SQLite scoring load: one row per account whose rows are joined by spaces
/// (SQLite's <c>group_concat</c>), so the provider reads one row per account instead of one per day and user.
/// </summary>
internal static class PackedRows
{
    /// <summary>"day user day user ...": each user under its day; equal user ids share one string.</summary>
    public static void ReadUsers(string packed, Dictionary<int, List<string>> days, HashSet<string>.AlternateLookup<ReadOnlySpan<char>> names)
    {
        var rest = packed.AsSpan();
        while (!rest.IsEmpty)
        {
            var day = int.Parse(Next(ref rest), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            var user = Next(ref rest);
            if (!names.TryGetValue(user, out var name))
            {
                name = user.ToString();
                names.Add(name);
            }

            (days.TryGetValue(day, out var list) ? list : days[day] = []).Add(name);
        }
    }

    /// <summary>"day score day score ...", "-" for a day without a score.</summary>
    public static void ReadScores(string packed, Dictionary<int, int?> days)
    {
        var rest = packed.AsSpan();
        while (!rest.IsEmpty)
        {
            var day = int.Parse(Next(ref rest), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            var score = Next(ref rest);
            days[day] = score is "-" ? null : int.Parse(score, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
    }

    private static ReadOnlySpan<char> Next(ref ReadOnlySpan<char> rest)
    {
        var space = rest.IndexOf(' ');
        var token = space < 0 ? rest : rest[..space];
        rest = space < 0 ? [] : rest[(space + 1)..];
        return token;
    }
}
