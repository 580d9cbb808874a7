using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace HealthScoring.Scoring.Metrics;

/// <summary>
/// A day's usage per event name when the day has few names (the usual case: the measured names and the rest summed):
/// one array searched in order, in the order given. A dictionary per day was most of what a loaded history allocated.
/// </summary>
public sealed class NameUsageDictionary : IReadOnlyDictionary<string, NameUsage>
{
    /// <summary>Up to this many names a day are kept in a <see cref="NameUsageDictionary"/>; more go to a dictionary.</summary>
    public const int MaxLinear = 8;

    private readonly KeyValuePair<string, NameUsage>[] _entries;

    private NameUsageDictionary(KeyValuePair<string, NameUsage>[] entries) => _entries = entries;

    /// <summary>
    /// The names and their usage as a read-only map, in the order given (which a sum over every name follows); names
    /// must be distinct.
    /// </summary>
    public static IReadOnlyDictionary<string, NameUsage> Create(KeyValuePair<string, NameUsage>[] entries)
    {
        if (entries.Length > MaxLinear)
        {
            return new Dictionary<string, NameUsage>(entries, StringComparer.Ordinal);
        }

        for (var i = 1; i < entries.Length; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(entries[i].Key, entries[j].Key, StringComparison.Ordinal))
                {
                    throw new ArgumentException($"The event name '{entries[i].Key}' occurs twice.", nameof(entries));
                }
            }
        }

        return new NameUsageDictionary(entries);
    }

    /// <summary>The events of every name (what <see cref="UsageDay.Events"/> counts).</summary>
    public static long TotalCount(IReadOnlyDictionary<string, NameUsage> names)
    {
        long total = 0;
        if (names is NameUsageDictionary map)
        {
            foreach (var entry in map._entries)
            {
                total += entry.Value.Count;
            }

            return total;
        }

        foreach (var entry in names)
        {
            total += entry.Value.Count;
        }

        return total;
    }

    public NameUsage this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"No usage of '{key}'.");

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public IEnumerable<NameUsage> Values => _entries.Select(e => e.Value);

    public int Count => _entries.Length;

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out NameUsage value)
    {
        foreach (var entry in _entries)
        {
            if (string.Equals(entry.Key, key, StringComparison.Ordinal))
            {
                value = entry.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    public IEnumerator<KeyValuePair<string, NameUsage>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, NameUsage>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
