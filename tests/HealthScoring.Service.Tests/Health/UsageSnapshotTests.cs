using System.Globalization;
using System.Text;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Health;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Tests.Storage;

using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Health;

/// <summary>
/// The scorer keeps each account's usage as it loaded it (UsageSnapshot) and, while nothing new arrives, the next
/// days' rescores read that instead of the rows. It must give exactly what reading the rows would, and never be
/// used once usage arrived.
/// </summary>
public sealed class UsageSnapshotTests
{
    [Test]
    public void EncodeDecode_KeepsEveryDayEntryUserAndFirstSeenDay()
    {
        var usage = new UsageHistory(
        [
            new UsageDay(new DateOnly(2026, 3, 1), Entries(("(other events)", 7, 0.1 + 0.2), ("nps", 1, 9)), ["u1", "u2"]),
            new UsageDay(new DateOnly(2026, 3, 4), Entries(("nps", 2, -3.5e-7)), []),
            new UsageDay(new DateOnly(2026, 4, 30), Entries(("(other events)", long.MaxValue / 3, double.MaxValue)), ["u2", "ü-ser/∂"]),
        ], new Dictionary<string, DateOnly> { ["nps"] = new(2025, 1, 2), ["login"] = new(2024, 12, 31) });
        var header = new UsageSnapshotHeader(20_500, 20_100, 20_530, new HashSet<string> { "nps", "goal.metric" }, WithFirstSeen: true);

        var decoded = UsageSnapshot.Decode(UsageSnapshot.Encode(header, usage));

        Assert.That(decoded, Is.Not.Null);
        var (h, u) = decoded!.Value;
        Assert.That((h.FullFrom, h.NamedFrom, h.ToDay, h.WithFirstSeen), Is.EqualTo((20_500, 20_100, 20_530, true)));
        Assert.That(h.Names, Is.EquivalentTo(new[] { "nps", "goal.metric" }));
        Assert.That(Dump(u), Is.EqualTo(Dump(usage)));
        Assert.That(u.Days[0].Names.Keys, Is.EqualTo(new[] { "(other events)", "nps" }), "entry order kept (sums add in it)");
        Assert.That(u.Days[0].Names["(other events)"].Quantity, Is.EqualTo(0.1 + 0.2), "quantities exact");
    }

    [Test]
    public void Decode_AnotherFormatVersion_IsNotUsed() =>
        Assert.That(UsageSnapshot.Decode([99, 1, 2, 3]), Is.Null);

    [Test]
    public void For_RefusesWhatTheSnapshotDoesNotCover()
    {
        var usage = new UsageHistory([new UsageDay(new DateOnly(2026, 3, 1), Entries(("nps", 1, 9)), [])]);
        var header = new UsageSnapshotHeader(100, 50, 130, new HashSet<string> { "nps" }, WithFirstSeen: false);

        Assert.Multiple(() =>
        {
            Assert.That(UsageSnapshot.For(header, usage, 101, 51, 131, ["nps"], false), Is.Not.Null, "a later day");
            Assert.That(UsageSnapshot.For(header, usage, 99, 51, 131, ["nps"], false), Is.Null, "an earlier full range");
            Assert.That(UsageSnapshot.For(header, usage, 101, 49, 131, ["nps"], false), Is.Null, "an earlier named range");
            Assert.That(UsageSnapshot.For(header, usage, 101, 51, 129, ["nps"], false), Is.Null, "an earlier day");
            Assert.That(UsageSnapshot.For(header, usage, 101, 51, 131, ["nps", "invoice"], false), Is.Null, "a name not loaded by name");
            Assert.That(UsageSnapshot.For(header, usage, 101, 51, 131, ["nps"], true), Is.Null, "first-seen days not loaded");
        });
    }

    /// <summary>
    /// On random usage over 420 days (named events, NPS, goals, idle stretches, milestones): the snapshot the scorer
    /// keeps after scoring one day, or after a back-fill, cut to each later day, equals that day's load from the rows,
    /// entry for entry, and scores the same.
    /// </summary>
    [TestCase(0)]
    [TestCase(41)]
    public async Task SnapshotOfADay_ReadsLikeTheRows_OnEveryLaterDay(int backfilledDays)
    {
        await using var store = await TestStore.CreateAsync(StoreProvider.Sqlite);
        var accounts = await LoadPlanEquivalenceTests.SeedAsync(store);
        var scorecards = LoadPlanEquivalenceTests.Scorecards();
        var health = new HealthRepository(store.Db, new SqlDialect(StoreProvider.Sqlite));
        var scored = UtcDay.Of(LoadPlanEquivalenceTests.Now);

        var loaded = await health.LoadManyAsync(accounts, AccountScorer.Plan(scorecards, scored - backfilledDays, scored), CancellationToken.None);
        var snapshots = accounts.ToDictionary(a => a, a => AccountScorer.SnapshotOf(loaded[a], AccountScorer.Plan(scorecards, scored, scored)));

        foreach (var later in new[] { scored, scored + 1, scored + 2, scored + 9, scored + 31, scored + 200, scored + 400 })
        {
            var plan = AccountScorer.Plan(scorecards, later, later);
            var rows = await health.LoadManyAsync(accounts, plan, CancellationToken.None);
            foreach (var account in accounts)
            {
                Assert.That(snapshots[account], Is.Not.Null);
                Assert.That(rows[account].LoadedFrom, Is.Not.Null, "nothing saved: read from the rows");
                var (header, usage) = UsageSnapshot.Decode(snapshots[account]!.Value.Data)!.Value;
                var fromSnapshot = UsageSnapshot.For(header, usage, plan.FullFrom, plan.NamedFrom, plan.ToDay,
                    plan.EventNames.Concat(rows[account].Facts.Goals.Select(g => g.Metric)), plan.WithFirstSeen);

                Assert.That(fromSnapshot, Is.Not.Null, $"{account} on day {later}");
                Assert.That(Dump(fromSnapshot!), Is.EqualTo(Dump(rows[account].Usage)), $"{account} on day {later}");
                Assert.That(LoadPlanEquivalenceTests.Score(scorecards, rows[account] with { Usage = fromSnapshot! }, later),
                    Is.EqualTo(LoadPlanEquivalenceTests.Score(scorecards, rows[account], later)), $"{account} on day {later}");
            }
        }
    }

    /// <summary>
    /// Through the real save and load, on both providers (SQL Server when <c>HEALTHSCORING_TEST_SQLSERVER</c> is set):
    /// a saved snapshot is read until an event arrives, then the rows are.
    /// </summary>
    [TestCase("Sqlite")]
    [TestCase("SqlServer")]
    public async Task SavedSnapshot_IsReadUntilUsageArrives(string providerName)
    {
        var (created, health, scorer) = await ScorerOnStore.CreateAsync(providerName);
        await using var store = created;
        var now = LoadPlanEquivalenceTests.Now;
        var today = UtcDay.Of(now);
        var writer = store.NewUsageStore();
        await writer.WriteAndFoldAsync(new IngestGroup([[
            new UsageEvent("snap-1", "e1", "u1", "login", now.AddDays(-3), 1),
            new UsageEvent("snap-1", "e2", "u2", "report", now.AddDays(-1), 2),
        ]]), today, now.ToUnixTimeMilliseconds(), CancellationToken.None);

        var due = await health.DueAsync(today, today - 400, 10, CancellationToken.None);
        var scored = await scorer.ScoreAsync(due, today, CancellationToken.None);
        Assert.That(scored.Single().UsageSnapshot, Is.Not.Null, "read from the rows: a snapshot to keep");
        await health.SaveAsync(scored, now.ToUnixTimeMilliseconds(), CancellationToken.None);

        var cards = DefaultScorecard.Create();
        var nextDay = AccountScorer.Plan([cards], today + 1, today + 1);
        using var loads = new UsageLoadCounter();
        var next = (await health.LoadManyAsync(["snap-1"], nextDay, CancellationToken.None))["snap-1"];
        Assert.That(next.LoadedFrom, Is.Null, "the next day reads the snapshot");
        Assert.That(loads.Snapshot, Is.GreaterThanOrEqualTo(1), "counted in healthscoring.scoring.usage_loads");
        Assert.That(next.Usage.Days.Sum(d => d.Events), Is.EqualTo(2));
        var rescored = await scorer.ScoreAsync([new ScoringWork("snap-1", today + 1, next.DirtyVersion)], today + 1, CancellationToken.None);
        Assert.That(rescored.Single().UsageSnapshot, Is.Null, "from a snapshot: nothing new to keep");

        await writer.WriteAndFoldAsync(new IngestGroup([[new UsageEvent("snap-1", "e3", "u3", "login", now, 1)]]),
            today, now.ToUnixTimeMilliseconds(), CancellationToken.None);
        var after = (await health.LoadManyAsync(["snap-1"], nextDay, CancellationToken.None))["snap-1"];
        Assert.That(after.LoadedFrom, Is.Not.Null, "usage arrived: the rows are read");
        Assert.That(after.Usage.Days.Sum(d => d.Events), Is.EqualTo(3));
        Assert.That(after.Usage.Days[^1].Users, Is.EquivalentTo(new[] { "u3" }));
    }

    /// <summary>Sums healthscoring.scoring.usage_loads by source while it lives.</summary>
    private sealed class UsageLoadCounter : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _snapshot;

        public UsageLoadCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "healthscoring.scoring.usage_loads")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag is { Key: "source", Value: "snapshot" })
                    {
                        Interlocked.Add(ref _snapshot, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Snapshot => Interlocked.Read(ref _snapshot);

        public void Dispose() => _listener.Dispose();
    }

    private static Dictionary<string, NameUsage> Entries(params (string Name, long Count, double Quantity)[] entries) =>
        entries.ToDictionary(e => e.Name, e => new NameUsage(e.Count, e.Quantity), StringComparer.Ordinal);

    /// <summary>Every day with its entries in order (exact quantities), its users as a set, and the first-seen days.</summary>
    private static string Dump(UsageHistory usage)
    {
        var text = new StringBuilder();
        foreach (var day in usage.Days)
        {
            text.Append(CultureInfo.InvariantCulture, $"{day.Day:yyyy-MM-dd}:");
            foreach (var (name, value) in day.Names)
            {
                text.Append(CultureInfo.InvariantCulture, $" {name}={value.Count}/{value.Quantity:R}");
            }

            text.Append(" users=").AppendJoin(',', day.Users.Order(StringComparer.Ordinal)).Append('\n');
        }

        foreach (var (name, day) in usage.FirstSeen.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"first {name} {day:yyyy-MM-dd}\n");
        }

        return text.ToString();
    }
}
