using HealthScoring.Scoring.Metrics;

namespace HealthScoring.Scoring.Tests;

public sealed class NameUsageDictionaryTests
{
    private static KeyValuePair<string, NameUsage> Entry(string name, long count, double quantity = 0) => new(name, new NameUsage(count, quantity));

    [TestCase(1)]
    [TestCase(NameUsageDictionary.MaxLinear)]
    [TestCase(NameUsageDictionary.MaxLinear + 1)]
    [TestCase(40)]
    public void Lookups_Order_AndTotal_AreThoseOfADictionary(int names)
    {
        var entries = Enumerable.Range(0, names).Select(i => Entry($"event.{names - i}", i + 1, i * 0.5)).ToArray();
        var map = NameUsageDictionary.Create(entries);
        var reference = entries.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        Assert.Multiple(() =>
        {
            Assert.That(map.Count, Is.EqualTo(names));
            Assert.That(map, Is.EqualTo(entries), "enumerated in the order given");
            Assert.That(map.Keys, Is.EqualTo(entries.Select(e => e.Key)));
            Assert.That(map.Values, Is.EqualTo(entries.Select(e => e.Value)));
            foreach (var (name, usage) in reference)
            {
                Assert.That(map.TryGetValue(name, out var found) && found == usage && map[name] == usage && map.ContainsKey(name), name);
            }

            Assert.That(map.TryGetValue("EVENT.1", out _), Is.False, "names are case-sensitive");
            Assert.That(map.ContainsKey("missing"), Is.False);
            Assert.Throws<KeyNotFoundException>(() => _ = map["missing"]);
            Assert.That(NameUsageDictionary.TotalCount(map), Is.EqualTo(names * (names + 1) / 2));
            Assert.That(new UsageDay(new DateOnly(2026, 1, 1), map, []).Events, Is.EqualTo(names * (names + 1) / 2));
        });
    }

    [TestCase(3)]
    [TestCase(NameUsageDictionary.MaxLinear + 2)]
    public void ANameTwice_IsRefused(int names)
    {
        var entries = Enumerable.Range(0, names).Select(i => Entry(i == names - 1 ? "event.0" : $"event.{i}", 1)).ToArray();
        Assert.Throws<ArgumentException>(() => NameUsageDictionary.Create(entries));
    }
}
