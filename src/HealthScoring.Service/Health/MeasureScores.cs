using System.Globalization;
using HealthScoring.Scoring.Engine;

namespace HealthScoring.Service.Health;

/// <summary>
/// A snapshot's measure scores as stored in <c>health_daily.measure_scores</c>: in the order of the scorecard
/// version's measures (dimension by dimension), comma-separated, one decimal, empty for N/A ("55.2,,100,0").
/// </summary>
internal static class MeasureScores
{
    public static string Encode(HealthResult result) => string.Join(',', result.Dimensions
        .SelectMany(d => d.Measures)
        .Select(m => m.Score is { } score ? score.ToString("0.#", CultureInfo.InvariantCulture) : ""));

    /// <summary>
    /// Writes the scores of <paramref name="text"/> into <paramref name="target"/> at the positions
    /// <paramref name="positions"/> gives for each stored measure (-1: not wanted); the rest stay NaN (N/A).
    /// </summary>
    public static void Decode(ReadOnlySpan<char> text, IReadOnlyList<int> positions, float[] target)
    {
        Array.Fill(target, float.NaN);
        for (var k = 0; k < positions.Count; k++)
        {
            var comma = text.IndexOf(',');
            var part = comma < 0 ? text : text[..comma];
            if (positions[k] >= 0 && part.Length > 0 && Parse(part) is { } score)
            {
                target[positions[k]] = score;
            }

            if (comma < 0)
            {
                break;
            }

            text = text[(comma + 1)..];
        }
    }

    /// <summary>"ddd" or "ddd.d" as written by <see cref="Encode"/> without the general parser (a backtest reads millions); anything else through it.</summary>
    private static float? Parse(ReadOnlySpan<char> text)
    {
        var whole = 0;
        var i = 0;
        for (; i < text.Length && i < 4 && char.IsAsciiDigit(text[i]); i++)
        {
            whole = whole * 10 + (text[i] - '0');
        }

        if (i == text.Length)
        {
            return whole;
        }

        if (i > 0 && i == text.Length - 2 && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
        {
            return (whole * 10 + (text[i + 1] - '0')) / 10f;
        }

        return float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
