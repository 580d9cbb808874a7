using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Tests.Ingestion;

/// <summary>The in-memory idempotency key set against a HashSet, through growth, removals and long probe runs; the key format.</summary>
public sealed class KeySetTests
{
    [Test]
    public void RandomAddsAndRemoves_MatchAHashSet()
    {
        var random = new Random(7);
        var set = new KeySet();
        var reference = new HashSet<UInt128>();
        var known = new List<UInt128>();
        for (var step = 0; step < 200_000; step++)
        {
            var roll = random.Next(10);
            UInt128 key = roll < 2 && known.Count > 0 ? known[random.Next(known.Count)] : Key(random);
            if (roll < 7)
            {
                Assert.That(set.Add(key), Is.EqualTo(reference.Add(key)), $"add at step {step}");
                known.Add(key);
            }
            else
            {
                Assert.That(set.Remove(key), Is.EqualTo(reference.Remove(key)), $"remove at step {step}");
            }
        }

        Assert.That(set.Count, Is.EqualTo(reference.Count));
        Assert.That(known.All(k => set.Contains(k) == reference.Contains(k)), Is.True);
    }

    [Test]
    public void KeysSharingTheirLowBits_ProbeAcrossTheEndAndSurviveRemovalsInTheRun()
    {
        // Same low 64 bits: one home slot (the last one, so the run wraps to the start), told apart by the high bits.
        var keys = Enumerable.Range(1, 600).Select(i => new UInt128((ulong)i, 1023UL)).ToList();
        var set = new KeySet();
        keys.ForEach(k => Assert.That(set.Add(k), Is.True));

        for (var i = 0; i < keys.Count; i += 3)
        {
            Assert.That(set.Remove(keys[i]), Is.True);
        }

        Assert.Multiple(() =>
        {
            for (var i = 0; i < keys.Count; i++)
            {
                Assert.That(set.Contains(keys[i]), Is.EqualTo(i % 3 != 0), $"key {i}");
            }
        });
        Assert.That(set.Count, Is.EqualTo(400));
    }

    [Test]
    public void TheZeroKey_IsAKeyLikeAnyOther()
    {
        var set = new KeySet();

        Assert.That((set.Contains(0), set.Add(0), set.Add(0), set.Contains(0), set.Count), Is.EqualTo((false, true, false, true, 1)));
        Assert.That((set.Remove(0), set.Remove(0), set.Contains(0), set.Count), Is.EqualTo((true, false, false, 0)));
    }

    [TestCase("acct", "evt", "a5c87dfc0b476c060a59d6df94bcfdc0")]
    [TestCase("ü-acct", "e/1", "8abb00ae6ce8c2274e3648f1eebecdc6")]
    public void IdempotencyKey_IsTheStoredFormat_Sha256OfTheLengthPrefixedIds(string account, string eventId, string expected)
    {
        // The keys are persisted (journal, older stores' event_keys): a change of format would let retries count twice.
        // Expected values from Python: sha256(u32be(len(a)) + a + u32be(len(e)) + e)[:16], UTF-8.
        var other = IdempotencyKey.For("another", "key"); // the per-thread hasher must reset between keys
        Assert.That(Convert.ToHexStringLower(IdempotencyKey.For(account, eventId).ToBytes()), Is.EqualTo(expected));
        Assert.That(IdempotencyKey.For(account, eventId), Is.Not.EqualTo(other));
    }

    private static UInt128 Key(Random random) => new((ulong)random.NextInt64(), (ulong)random.NextInt64());
}
