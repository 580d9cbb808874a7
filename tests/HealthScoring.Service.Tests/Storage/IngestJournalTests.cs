using Dapper;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>
/// SQLite's ingest journal (a file beside the store, with the store's watermark from migration 0008): an
/// acknowledged group is its packed keys plus its encoded events until the folder adds them to the aggregates. What is pending survives a restart, is folded once, and
/// its keys still catch resends; reads of an account wait for its pending events; a backlog refuses new batches.
/// </summary>
public sealed class IngestJournalTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private TestStore _store = null!;

    [SetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(StoreProvider.Sqlite);

    [TearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    public void Codec_RoundTrip_GivesTheSameAggregatesAsTheEvents()
    {
        UsageEvent[] events =
        [
            new("acct-ü", "e1", "ann", "login", Now.AddHours(-1), 1),
            new("acct-ü", "e2", null, "report.exported", Now.AddDays(-1).AddMilliseconds(7), 2.5),
            new("acct-2", "e3", "ann", "login", Now.AddDays(-400), 1e-9),
            new("acct-2", "e4", "bøb/∂", "login", Now.AddMinutes(4), double.MaxValue / 4),
            new("acct-ü", "e5", "ann", "login", Now.AddHours(-1), 1),
        ];
        var direct = new UsageDelta();
        foreach (var e in events)
        {
            direct.Add(e);
        }

        var decoded = new UsageDelta();
        var count = JournalCodec.DecodeInto(JournalCodec.Encode(events), decoded);

        Assert.That(count, Is.EqualTo(events.Length));
        Assert.That(decoded.Daily, Is.EquivalentTo(direct.Daily));
        Assert.That(decoded.Users, Is.EquivalentTo(direct.Users));
        Assert.That(decoded.Accounts, Is.EquivalentTo(direct.Accounts));
    }

    [Test]
    public void Codec_TrailingOrTruncatedBytes_AreRefused()
    {
        var blob = JournalCodec.Encode([new UsageEvent("a", "e", "u", "login", Now, 1)]);

        Assert.Throws<InvalidDataException>(() => JournalCodec.DecodeInto([.. blob, 0], new UsageDelta()), "trailing byte");
        Assert.Throws<InvalidDataException>(() => JournalCodec.DecodeInto(blob.AsSpan(0, blob.Length - 1), new UsageDelta()), "truncated");
        Assert.Throws<InvalidDataException>(() => JournalCodec.DecodeInto([2, .. blob[1..]], new UsageDelta()), "another version");
        Assert.Throws<InvalidDataException>(() => JournalCodec.DecodeInto([1, 0xFF, 0xFF, 0xFF, 0x7F], new UsageDelta()), "a count past the bytes");
        Assert.Throws<InvalidDataException>(() => JournalCodec.DecodeInto([], new UsageDelta()), "empty");
    }

    [Test]
    public async Task Acknowledged_IsPendingUntilFolded_ThenCountedOnce()
    {
        var store = _store.NewUsageStore();

        var outcomes = await WriteAsync(store, Batch("a1", 0, 3), Batch("a2", 0, 2));

        Assert.That(outcomes, Is.EqualTo(new[] { new BatchOutcome(3, 0), new BatchOutcome(2, 0) }));
        Assert.That(store.UnfoldedEvents, Is.EqualTo(5));
        Assert.That(await _store.ScalarAsync<long>("SELECT COUNT(*) FROM accounts"), Is.Zero, "aggregates wait for the fold");
        Assert.That(await JournalAsync("SELECT SUM(event_count) FROM ingest_pending"), Is.EqualTo(5));

        Assert.That(await store.FoldAsync(int.MaxValue, CancellationToken.None), Is.EqualTo(5));
        Assert.That(await store.FoldAsync(int.MaxValue, CancellationToken.None), Is.Zero);

        Assert.That(store.UnfoldedEvents, Is.Zero);
        Assert.That(await JournalAsync("SELECT COUNT(*) FROM ingest_pending"), Is.Zero);
        Assert.That(await _store.ScalarAsync<long>("SELECT SUM(event_count) FROM accounts"), Is.EqualTo(5));
        Assert.That(await _store.ScalarAsync<long>("SELECT SUM(event_count) FROM usage_daily"), Is.EqualTo(5));
        Assert.That(await JournalAsync("SELECT SUM(length(keys)) / 16 FROM ingest_keys"), Is.EqualTo(5), "the keys stay for the idempotency window");
    }

    [Test]
    public async Task PendingAtRestart_IsFoldedOnce_AndItsKeysStillCatchResends()
    {
        await EarlierProcessAsync(fold: false, Batch("a1", 0, 4)); // the process is gone before any fold

        var second = _store.NewUsageStore();
        var resent = await WriteAsync(second, Batch("a1", 0, 4), Batch("a1", 4, 1));

        Assert.That(resent, Is.EqualTo(new[] { new BatchOutcome(0, 4), new BatchOutcome(1, 0) }));
        Assert.That(second.UnfoldedEvents, Is.EqualTo(5), "the earlier process's pending events are known after the restart");
        while (await second.FoldAsync(3, CancellationToken.None) > 0)
        {
        }

        Assert.That(await _store.ScalarAsync<long>("SELECT event_count FROM accounts WHERE account_id = 'a1'"), Is.EqualTo(5));
        Assert.That(await _store.ScalarAsync<long>("SELECT SUM(event_count) FROM usage_daily"), Is.EqualTo(5));
    }

    [Test]
    public async Task JournalRowsUpToTheWatermark_AreNeverCountedAgain()
    {
        var first = (SqliteUsageStore)_store.NewUsageStore();
        await WriteAsync(first, Batch("wm", 0, 3));
        byte[] row;
        await using (var journal = Journal())
        {
            row = (await journal.QueryAsync<byte[]>("SELECT events FROM ingest_pending")).Single();
        }

        await first.FoldAsync(int.MaxValue, CancellationToken.None);
        first.Dispose();
        await using (var journal = Journal())
        {
            // A crash after the fold committed but before it dropped its journal rows leaves them behind.
            await journal.ExecuteAsync("INSERT INTO ingest_pending (batch_id, received_at, event_count, events) VALUES (1, 0, 3, @row)", new { row });
        }

        var second = _store.NewUsageStore();
        var folded = await second.FoldAsync(int.MaxValue, CancellationToken.None);

        Assert.That((folded, second.UnfoldedEvents), Is.EqualTo((0, 0L)));
        Assert.That(await _store.ScalarAsync<long>("SELECT event_count FROM accounts WHERE account_id = 'wm'"), Is.EqualTo(3));
        Assert.That(await JournalAsync("SELECT COUNT(*) FROM ingest_pending"), Is.Zero, "dropped at load");
    }

    [Test]
    public async Task DamagedGroup_IsQuarantined_AndTheGroupsAfterItAreStillCounted()
    {
        var store = _store.NewUsageStore();
        await WriteAsync(store, Batch("damaged", 0, 2));
        await WriteAsync(store, Batch("sound", 0, 3));
        await using (var journal = Journal())
        {
            await journal.ExecuteAsync("UPDATE ingest_pending SET events = x'01ff' WHERE batch_id = 1");
        }

        var folded = 0;
        while (await store.FoldAsync(int.MaxValue, CancellationToken.None) is var n and > 0)
        {
            folded += n;
        }

        Assert.That((folded, store.UnfoldedEvents), Is.EqualTo((3, 0L)));
        Assert.That(await _store.ScalarAsync<long>("SELECT COALESCE(SUM(event_count), 0) FROM accounts"), Is.EqualTo(3));
        Assert.That(await JournalAsync("SELECT event_count FROM ingest_quarantine WHERE batch_id = 1"), Is.EqualTo(2), "kept aside, uncounted");
        Assert.That(await JournalAsync("SELECT COUNT(*) FROM ingest_pending"), Is.Zero);
    }

    [Test]
    public async Task AJournalThatDoesNotBelongWithTheStore_IsRefusedLoudly()
    {
        await EarlierProcessAsync(fold: true, Batch("pair", 0, 2));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var journalPath = ((SqliteStoreDataSource)_store.Db).JournalPath;
        foreach (var file in new[] { journalPath, journalPath + "-wal", journalPath + "-shm" }.Where(File.Exists))
        {
            File.Delete(file); // lost, or restored apart from the store
        }

        var second = (SqliteUsageStore)_store.NewUsageStore();

        var refused = Assert.ThrowsAsync<InvalidOperationException>(() => second.EnsureAsync(CancellationToken.None));
        Assert.That(refused!.Message, Does.Contain("does not belong with the store"));
        Assert.ThrowsAsync<InvalidOperationException>(() => WriteAsync(second, Batch("pair", 2, 1)), "nothing is acknowledged meanwhile");
    }

    [Test]
    public async Task TwoFoldersAtOnce_CountEachGroupOnce()
    {
        var writer = _store.NewUsageStore();
        for (var g = 0; g < 20; g++)
        {
            await WriteAsync(writer, Batch($"race-{g % 4}", g * 10, 10));
        }

        var folders = Enumerable.Range(0, 3).Select(_ => _store.NewUsageStore()).ToList();
        await Task.WhenAll(folders.Select(f => Task.Run(async () =>
        {
            while (await f.FoldAsync(30, CancellationToken.None) > 0)
            {
            }
        })));

        Assert.That(await _store.ScalarAsync<long>("SELECT SUM(event_count) FROM accounts"), Is.EqualTo(200));
        Assert.That(await _store.ScalarAsync<long>("SELECT SUM(event_count) FROM usage_daily"), Is.EqualTo(200));
        Assert.That(folders.Select(f => f.UnfoldedEvents), Is.All.Zero, "each folder's count agrees once all is folded");
    }

    [Test]
    public async Task AGroupThatFailsToCommit_LeavesNoKeyBehind_SoItsRetryCounts()
    {
        var store = _store.NewUsageStore();
        await WriteAsync(store, Batch("fails", 0, 1)); // the journal exists
        await using (var journal = Journal())
        {
            await journal.ExecuteAsync("CREATE TRIGGER fail_pending BEFORE INSERT ON ingest_pending BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
        }

        Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => WriteAsync(store, Batch("fails", 1, 4)));
        await using (var journal = Journal())
        {
            await journal.ExecuteAsync("DROP TRIGGER fail_pending");
        }

        var retried = await WriteAsync(store, Batch("fails", 1, 4));

        Assert.That(retried, Is.EqualTo(new[] { new BatchOutcome(4, 0) }), "the failed group's keys were not kept");
        Assert.That(store.UnfoldedEvents, Is.EqualTo(5));
    }

    [Test]
    public async Task AccountRead_WaitsForItsOwnPendingEventsOnly()
    {
        var store = _store.NewUsageStore();
        await WriteAsync(store, Batch("waits", 0, 2));

        var waiting = store.WaitFoldedAsync("waits", CancellationToken.None);
        var other = store.WaitFoldedAsync("nothing-pending", CancellationToken.None);

        Assert.That(other.IsCompletedSuccessfully, Is.True, "an account with nothing pending does not wait");
        await Task.Delay(50);
        Assert.That(waiting.IsCompleted, Is.False, "pending events of the account: the read waits");
        await store.FoldAsync(int.MaxValue, CancellationToken.None);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Test]
    public async Task AccountRead_AfterARestart_WaitsForWhatWasPendingBefore()
    {
        await EarlierProcessAsync(fold: false, Batch("before", 0, 2));

        var second = _store.NewUsageStore();
        var waiting = second.WaitFoldedAsync("any-account", CancellationToken.None);
        await Task.Delay(50);

        Assert.That(waiting.IsCompleted, Is.False, "which accounts the old process left pending is unknown: every read waits");
        await second.FoldAsync(int.MaxValue, CancellationToken.None);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Test]
    public async Task Writer_RefusesWhileTheUnfoldedBacklogIsFull_AndStoresNothingOfIt()
    {
        var store = _store.NewUsageStore();
        var options = new IngestionOptions { MaxUnfoldedEvents = 1000 };
        var readiness = new StoreReadiness();
        var folder = new UsageFolder(store, readiness, options, NullLogger<UsageFolder>.Instance); // not started: nothing folds
        using var writer = new IngestionWriter(store, folder, readiness, options, TimeProvider.System, NullLogger<IngestionWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        try
        {
            Assert.That(await writer.SubmitAsync(Batch("full", 0, 1001), CancellationToken.None), Is.EqualTo(new BatchOutcome(1001, 0)));

            var refused = Assert.ThrowsAsync<IngestionOverloadedException>(() => writer.SubmitAsync(Batch("full", 2000, 5), CancellationToken.None));
            Assert.That(refused!.RetryAfter, Is.GreaterThan(TimeSpan.Zero));
            Assert.That(await JournalAsync("SELECT SUM(length(keys)) / 16 FROM ingest_keys"), Is.EqualTo(1001));

            await store.FoldAsync(int.MaxValue, CancellationToken.None);
            Assert.That(await writer.SubmitAsync(Batch("full", 2000, 5), CancellationToken.None), Is.EqualTo(new BatchOutcome(5, 0)), "accepted once folded");
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Writes the batches through the store of an earlier process, which stops before folding them, or after.</summary>
    private async Task EarlierProcessAsync(bool fold, params IReadOnlyList<UsageEvent>[] batches)
    {
        using var earlier = (SqliteUsageStore)_store.NewUsageStore();
        await WriteAsync(earlier, batches);
        if (fold)
        {
            await earlier.FoldAsync(int.MaxValue, CancellationToken.None);
        }
    }

    /// <summary>A count in the ingest journal, the file beside the store.</summary>
    private async Task<long> JournalAsync(string sql)
    {
        await using var journal = Journal();
        return await journal.ExecuteScalarAsync<long>(sql);
    }

    private Microsoft.Data.Sqlite.SqliteConnection Journal() => ((SqliteStoreDataSource)_store.Db).OpenJournalConnection();

    private static UsageEvent[] Batch(string account, int first, int count) =>
        Enumerable.Range(first, count).Select(i => new UsageEvent(account, $"e{i}", $"u{i % 3}", "login", Now.AddMinutes(-i), 1)).ToArray();

    private static Task<BatchOutcome[]> WriteAsync(IUsageStore store, params IReadOnlyList<UsageEvent>[] batches) =>
        store.WriteAsync(new IngestGroup(batches), UtcDay.Of(Now), Now.ToUnixTimeMilliseconds(), CancellationToken.None);
}
