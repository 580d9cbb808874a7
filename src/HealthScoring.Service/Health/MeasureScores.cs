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
            if (positions[k] >= 0 && part.Length > 0 && float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var score))
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
}
