using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace HealthScoring.Service.Hosting;

/// <summary>Query-string conventions shared by the list endpoints: times and opaque keyset cursors.</summary>
internal static class RestQuery
{
    /// <summary>A date (YYYY-MM-DD: its start, UTC) or an RFC 3339 time, as Unix milliseconds; null if neither.</summary>
    public static long? ParseTimeMs(string text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? new DateTimeOffset(date, TimeOnly.MinValue, TimeSpan.Zero).ToUnixTimeMilliseconds()
            : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time.ToUnixTimeMilliseconds() : null;

    /// <summary>An opaque cursor holding a number and a key (e.g. the last row's day and id).</summary>
    public static string EncodeCursor(long number, string key) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{number}\n{key}")));

    /// <summary>The number and key of a cursor this service returned; null for anything else.</summary>
    public static (long Number, string Key)? DecodeCursor(string cursor, int maxKeyLength)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var newline = text.IndexOf('\n', StringComparison.Ordinal);
            return newline > 0 && long.TryParse(text.AsSpan(0, newline), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                   && text.Length - newline - 1 is > 0 && text.Length - newline - 1 <= maxKeyLength
                ? (number, text[(newline + 1)..])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
