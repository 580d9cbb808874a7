using System.Diagnostics;

namespace HealthScoring.Bench.Load;

/// <summary>Durations in Stopwatch ticks, summarised as nearest-rank percentiles in milliseconds.</summary>
internal sealed class Latencies
{
    private readonly List<long> _ticks = new(4096);

    public int Count => _ticks.Count;

    public void Add(long ticks) => _ticks.Add(ticks);

    public void AddRange(Latencies other) => _ticks.AddRange(other._ticks);

    public double PercentileMs(double percentile)
    {
        if (_ticks.Count == 0)
        {
            return double.NaN;
        }

        _ticks.Sort();
        var rank = (int)Math.Ceiling(percentile / 100 * _ticks.Count);
        return ToMs(_ticks[Math.Clamp(rank - 1, 0, _ticks.Count - 1)]);
    }

    public static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
