using Dapper;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Health;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Risk;
using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Webhooks;

using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>
/// One contract for every store provider: SQLite always, SQL Server whenever HEALTHSCORING_TEST_SQLSERVER
/// holds a connection string (reported as skipped otherwise).
/// </summary>
[TestFixture("Sqlite")]
[TestFixture("SqlServer")]
public sealed class StoreContractTests(string providerName)
{
    private readonly StoreProvider provider = Enum.Parse<StoreProvider>(providerName);
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private TestStore _store = null!;

    [SetUp]
    public async Task CreateStoreAsync()
    {
        if (provider == StoreProvider.SqlServer && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TestStore.SqlServerVariable)))
        {
            // A skip, not a pass: the SQL Server half of the contract did not run.
            Assert.Ignore($"{TestStore.SqlServerVariable} is not set: the SQL Server contract did not run.");
        }

        _store = await TestStore.CreateAsync(provider);
    }

    [TearDown]
    public async Task DropStoreAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    [Test]
    public async Task Migrations_RunAgain_ApplyNothingAndKeepTheJournal()
    {
        var again = await _store.Migrations().RunAsync(CancellationToken.None);

        Assert.That(again, Is.Zero);
        Assert.That(await _store.ScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations"),
            Is.EqualTo(MigrationRunner.Scripts(provider).Count()));
    }

    [Test]
    public async Task Write_NewEvents_AreAcceptedAndAggregatedPerAccountDayNameAndUser()
    {
        var day = UtcDay.Of(Now);
        var events = new[]
        {
            Event("a1", "e1", "login", "alice", Now.AddHours(-1), 1),
            Event("a1", "e2", "login", "bob", Now.AddHours(-2), 1),
            Event("a1", "e3", "report", "alice", Now.AddHours(-3), 2.5),
            Event("a1", "e4", "login", "alice", Now.AddDays(-1), 1),
            Event("a2", "e1", "login", null, Now.AddDays(-2), 4),
        };

        var outcomes = await WriteAsync(_store.NewUsageStore(), [events]);

        Assert.That(outcomes, Is.EqualTo(new[] { new BatchOutcome(5, 0) }));
        await using var connection = await _store.Db.OpenConnectionAsync();
        var daily = (await connection.QueryAsync<(string, long, string, long, double)>(
            "SELECT account_id, day, event_name, event_count, quantity FROM usage_daily ORDER BY account_id, day, event_name")).ToList();
        Assert.That(daily, Is.EqualTo(new[]
        {
            ("a1", (long)day - 1, "login", 1L, 1.0),
            ("a1", (long)day, "login", 2L, 2.0),
            ("a1", (long)day, "report", 1L, 2.5),
            ("a2", (long)day - 2, "login", 1L, 4.0),
        }));
        var users = (await connection.QueryAsync<(string, long, string, long)>(
            "SELECT account_id, day, user_id, event_count FROM active_users_daily ORDER BY account_id, day, user_id")).ToList();
        Assert.That(users, Is.EqualTo(new[]
        {
            ("a1", (long)day - 1, "alice", 1L),
            ("a1", (long)day, "alice", 2L),
            ("a1", (long)day, "bob", 1L),
        }));
        var account = await new AccountRepository(_store.Db, new SqlDialect(provider), new FakeClock(Now)).GetAsync("a1", CancellationToken.None);
        Assert.That(account, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(account!.Usage.EventCount, Is.EqualTo(4));
            Assert.That(account.Usage.QuantityTotal, Is.EqualTo(5.5));
            Assert.That(account.Usage.ActiveUsers30d, Is.EqualTo(2));
            Assert.That(account.Usage.FirstEventAt, Is.EqualTo(Now.AddDays(-1)));
            Assert.That(account.Usage.LastEventAt, Is.EqualTo(Now.AddHours(-1)));
        });
        Assert.That(await _store.ScalarAsync<long>("SELECT usage_changed_from_day FROM accounts WHERE account_id = 'a1'"), Is.EqualTo(day - 1));
    }

    [Test]
    public async Task Write_DuplicatesInGroupAndAcrossCommits_AreCountedOnce()
    {
        var store = _store.NewUsageStore();
        var e1 = Event("a1", "e1");
        var e2 = Event("a1", "e2");

        var first = await WriteAsync(store, [[e1, e2, e1], [e2, Event("a1", "e3")]]);
        var second = await WriteAsync(store, [[e1, e2, Event("a1", "e4")]]);

        Assert.That(first, Is.EqualTo(new[] { new BatchOutcome(2, 1), new BatchOutcome(1, 1) }));
        Assert.That(second, Is.EqualTo(new[] { new BatchOutcome(1, 2) }));
        Assert.That(await _store.ScalarAsync<long>("SELECT event_count FROM accounts WHERE account_id = 'a1'"), Is.EqualTo(4));
        Assert.That(await _store.ScalarAsync<long>("SELECT SUM(event_count) FROM usage_daily"), Is.EqualTo(4));
    }

    [Test]
    public async Task Write_TwoWritersRacingWithSameEvents_CountEachOnce()
    {
        var batch = Enumerable.Range(0, 500).Select(i => Event($"a{i % 10}", $"e{i}")).ToArray();
        var writers = Enumerable.Range(0, 4).Select(_ => _store.NewUsageStore()).ToList();

        var outcomes = await Task.WhenAll(writers.Select(w => Task.Run(() => WriteAsync(w, [batch]))));

        Assert.That(outcomes.Sum(o => o[0].Accepted), Is.EqualTo(500));
        Assert.That(await _store.ScalarAsync<long>("SELECT SUM(event_count) FROM accounts"), Is.EqualTo(500));
    }

    [Test]
    public async Task PurgeKeys_ForgetsOnlyKeysReceivedBeforeTheCutoff()
    {
        var store = _store.NewUsageStore();
        var old = Event("a1", "old");
        var recent = Event("a1", "recent");
        await store.WriteAsync(new IngestGroup([[old]]), 100, 0, CancellationToken.None);
        await store.WriteAsync(new IngestGroup([[recent]]), 200, 0, CancellationToken.None);

        var purged = await store.PurgeKeysAsync(150, CancellationToken.None);
        var again = await store.WriteAsync(new IngestGroup([[old], [recent]]), 201, 0, CancellationToken.None);

        Assert.That(purged, Is.EqualTo(1));
        Assert.That(again, Is.EqualTo(new[] { new BatchOutcome(1, 0), new BatchOutcome(0, 1) }), "past the idempotency window a resend counts again");
    }

    [Test]
    public async Task ApiKeys_CreateFindListRevoke()
    {
        var keys = new ApiKeyRepository(_store.Db, new FakeClock(Now));
        var hash = ApiKeySecret.Hash("secret-1");

        var created = await keys.CreateAsync("crm", [Scopes.Read, Scopes.Write], hash, CancellationToken.None);
        var found = await keys.FindActiveByHashAsync(hash, CancellationToken.None);
        var listed = await keys.ListActiveAsync(CancellationToken.None);
        var revoked = await keys.RevokeAsync(created.Id, CancellationToken.None);
        var revokedAgain = await keys.RevokeAsync(created.Id, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(found, Is.EqualTo(new ApiKeyPrincipal(created.Id, "crm", found!.Scopes)));
            Assert.That(found.Scopes, Is.EqualTo(new[] { Scopes.Read, Scopes.Write }));
            Assert.That(listed.Select(k => k.Id), Is.EqualTo(new[] { created.Id }));
            Assert.That(revoked, Is.True);
            Assert.That(revokedAgain, Is.False);
            Assert.That(await keys.FindActiveByHashAsync(hash, CancellationToken.None), Is.Null);
            Assert.That(await keys.AnyActiveAsync(CancellationToken.None), Is.False);
        });
    }

    [Test]
    public async Task ApiKeys_OnlyTheHashIsStored()
    {
        var keys = new ApiKeyRepository(_store.Db, new FakeClock(Now));

        await keys.CreateAsync("crm", [Scopes.Read], ApiKeySecret.Hash("plain-secret"), CancellationToken.None);

        Assert.That(await _store.ScalarAsync<byte[]>("SELECT key_hash FROM api_keys"), Is.EqualTo(ApiKeySecret.Hash("plain-secret")));
        Assert.That(await _store.ScalarAsync<long>("SELECT COUNT(*) FROM api_keys WHERE name LIKE '%plain-secret%' OR scopes LIKE '%plain-secret%'"), Is.Zero);
    }

    private static UsageEvent Event(string account, string id, string name = "login", string? user = "u1", DateTimeOffset? at = null, double quantity = 1) =>
        new(account, id, user, name, at ?? Now.AddMinutes(-5), quantity);

    private static Task<BatchOutcome[]> WriteAsync(IUsageStore store, IReadOnlyList<IReadOnlyList<UsageEvent>> batches) =>
        store.WriteAndFoldAsync(new IngestGroup(batches), UtcDay.Of(Now), Now.ToUnixTimeMilliseconds(), CancellationToken.None);
    [Test]
    public async Task Accounts_UpsertCreatesThenReplaces_KeepingUsage_AndRecordsMoneyChanges()
    {
        await WriteAsync(_store.NewUsageStore(), [[Event("crm", "e1"), Event("crm", "e2")]]);
        var accounts = new AccountRepository(_store.Db, new SqlDialect(provider), new FakeClock(Now));
        var crm = new AccountCrm
        {
            Name = "Acme", Segment = "smb", Plan = "pro", SeatsPurchased = 10, Mrr = 99.5, Currency = "USD",
            ContractStart = new DateOnly(2026, 1, 1), Goals = [new HealthScoring.Scoring.Metrics.Goal("report", 5, 30)],
        };

        var createdFirst = await accounts.UpsertAsync("crm", crm, CancellationToken.None);
        var createdNew = await accounts.UpsertAsync("crm-new", crm, CancellationToken.None);
        await accounts.UpsertAsync("crm", crm with { Name = "Acme Inc" }, CancellationToken.None);
        await accounts.UpsertAsync("crm", crm with { Mrr = 120 }, CancellationToken.None);
        var account = await accounts.GetAsync("crm", CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(createdFirst, Is.False, "first seen in events");
            Assert.That(createdNew, Is.True);
            Assert.That(account!.Crm.Name, Is.EqualTo("Acme"), "each PUT replaces all CRM facts");
            Assert.That(account.Crm.Mrr, Is.EqualTo(120));
            Assert.That(account.Crm.Goals, Has.Count.EqualTo(1));
            Assert.That(account.Usage.EventCount, Is.EqualTo(2));
            Assert.That(await _store.ScalarAsync<long>("SELECT COUNT(*) FROM account_changes WHERE account_id = 'crm'"), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Scorecards_EveryVersionKept_LatestIsCurrent()
    {
        var scorecards = new ScorecardRepository(_store.Db, new SqlDialect(provider), new FakeClock(Now));
        await scorecards.EnsureAsync(CancellationToken.None);
        await scorecards.EnsureAsync(CancellationToken.None);
        var current = (await scorecards.GetAsync("default", null, CancellationToken.None))!.Scorecard;

        var saved = await scorecards.SaveAsync(current with { Name = "Changed" }, "tester", CancellationToken.None);
        var versions = await scorecards.ListVersionsAsync("default", CancellationToken.None);
        var latest = await scorecards.ListCurrentAsync(CancellationToken.None);
        var first = await scorecards.GetAsync("default", 1, CancellationToken.None);

        Assert.That(saved.Version, Is.EqualTo(2));
        Assert.That(versions.Select(v => v.Version), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(latest.Single().Scorecard.Name, Is.EqualTo("Changed"));
        Assert.That(first!.Scorecard.Name, Is.EqualTo(HealthScoring.Scoring.Scorecards.DefaultScorecard.Create().Name));
        Assert.That(first.Scorecard.Dimensions, Has.Count.EqualTo(4), "round-trips through JSON");
    }

    [Test]
    public async Task Health_DueScoreSave_ClearsTheWorkOnlyIfNothingChangedMeanwhile()
    {
        var today = UtcDay.Of(Now);
        var store = _store.NewUsageStore();
        await WriteAsync(store, [[Event("h1", "e1", at: Now.AddDays(-3)), Event("h2", "e1")]]);
        var health = new HealthRepository(_store.Db, new SqlDialect(provider));

        var due = await health.DueAsync(today, today - 400, 100, CancellationToken.None);
        Assert.That(due.Select(d => (d.AccountId, d.FromDay)), Is.EqualTo(new[] { ("h1", today - 3), ("h2", today) }));

        var inputs = await health.LoadManyAsync(["h1", "h2"], today - 30, today, withFirstSeen: true, CancellationToken.None);
        Assert.That(inputs["h1"].Usage.Days.Single().Day, Is.EqualTo(UtcDay.ToDate(today - 3)));
        Assert.That(inputs["h1"].Usage.FirstSeen["login"], Is.EqualTo(UtcDay.ToDate(today - 3)));

        // h2 gets a new event after it was picked: its work must survive the save.
        await WriteAsync(store, [[Event("h2", "e2")]]);
        var card = HealthScoring.Scoring.Scorecards.DefaultScorecard.Create();
        var scored = due.Select(d => new ScoredAccount(d, Enumerable.Range(d.FromDay, today - d.FromDay + 1)
            .Select(day => HealthScoring.Scoring.Engine.ScoringEngine.Score(card, inputs[d.AccountId].Facts, inputs[d.AccountId].Usage, UtcDay.ToDate(day))).ToList(), [], [], null)).ToList();
        await health.SaveAsync(scored, Now.ToUnixTimeMilliseconds(), CancellationToken.None);

        var history = await health.HistoryAsync("h1", today - 10, today, CancellationToken.None);
        Assert.That(history.Select(h => h.Day), Is.EqualTo(new long[] { today - 3, today - 2, today - 1, today }));
        var stored = await health.StoredAsync("h1", Now, CancellationToken.None);
        Assert.That(stored?.Day, Is.EqualTo(today));
        Assert.That(System.Text.Json.JsonDocument.Parse(stored!.Json!).RootElement.GetProperty("asOf").GetString(), Is.EqualTo(UtcDay.ToDate(today).ToString("yyyy-MM-dd")));
        var stillDue = await health.DueAsync(today, today - 400, 100, CancellationToken.None);
        Assert.That(stillDue.Select(d => d.AccountId), Is.EqualTo(new[] { "h2" }));

        var requested = await health.RequestRescoreAsync(["h1", "nobody"], today - 2, CancellationToken.None);
        Assert.That(requested, Is.EqualTo(1));
        Assert.That((await health.DueAsync(today, today - 400, 100, CancellationToken.None)).Single(d => d.AccountId == "h1").FromDay, Is.EqualTo(today - 2));
    }

    [Test]
    public async Task RiskFlags_ReconcileByIdentity_AndQueueRecentChangesInTheOutbox()
    {
        var today = UtcDay.Of(Now);
        await WriteAsync(_store.NewUsageStore(), [[Event("rf1", "e1")]]);
        var dialect = new SqlDialect(provider);
        var clock = new FakeClock(Now);
        var hooks = new WebhookRepository(_store.Db, dialect, clock);
        Assert.That(await hooks.PutAsync("h", "https://example.com/h", "0123456789abcdef", OutboxEvent.Types, "tester", CancellationToken.None), Is.True);
        Assert.That(await hooks.PutAsync("h", "https://example.com/h2", "0123456789abcdef", [OutboxEvent.RiskFlagRaised, OutboxEvent.RiskFlagCleared, OutboxEvent.HealthBandChanged], "tester", CancellationToken.None), Is.False);
        var health = new HealthRepository(_store.Db, dialect);
        var flags = new RiskFlagRepository(_store.Db, dialect);
        var evidence = new Dictionary<string, object> { ["days"] = 14 };
        HealthScoring.Scoring.Engine.HealthResult Day(int day) => new("rf1", UtcDay.ToDate(day), 30, HealthScoring.Scoring.Engine.Band.Red, "default", 1, [], []);
        var episodes = new[]
        {
            new HealthScoring.Scoring.Risk.RiskEpisode("inactive", "high", UtcDay.ToDate(today), null, "quiet", evidence),
            new HealthScoring.Scoring.Risk.RiskEpisode("health_red", "high", UtcDay.ToDate(today - 2), UtcDay.ToDate(today - 1), "red", evidence),
        };
        var work = new ScoringWork("rf1", today - 2, 0);

        // First computation: previously green, now red; flags raised today (notified), 2 days ago (not: the past) and cleared yesterday (notified).
        await health.SaveAsync([new ScoredAccount(work, [Day(today - 2), Day(today - 1), Day(today)], episodes, [], "green")], Now.ToUnixTimeMilliseconds(), CancellationToken.None);

        var all = await flags.ListAsync(new RiskFlagQuery("rf1", null, null, null, null, null, 100), CancellationToken.None);
        Assert.That(all.Select(f => (f.Type, f.RaisedDay, f.ClearedDay)), Is.EquivalentTo(new[] { ("inactive", (long)today, (long?)null), ("health_red", today - 2, today - 1) }));
        Assert.That(all.Single(f => f.Type == "inactive").Id, Is.EqualTo(StoredFlag.IdOf("rf1", "inactive", today)));
        var due = await hooks.DueAsync(Now.ToUnixTimeMilliseconds(), 100, CancellationToken.None);
        Assert.That(due.Select(d => d.Delivery.EventType), Is.EquivalentTo(new[] { "risk_flag.raised", "risk_flag.cleared", "health.band_changed" }));
        Assert.That(due.All(d => d.Webhook.Url == "https://example.com/h2"));

        // The same history computed again (the flags now stored): same rows, nothing new to announce.
        var plan = new UsageLoadPlan(today - 2, today - 2, today, new HashSet<string>(), false, false, false, FlagsFrom: today - 2);
        var stored = (await health.LoadManyAsync(["rf1"], plan, CancellationToken.None))["rf1"];
        Assert.That(stored.Flags, Has.Count.EqualTo(2));
        Assert.That(stored.Band, Is.EqualTo("red"));
        await health.SaveAsync([new ScoredAccount(work, [Day(today - 2), Day(today - 1), Day(today)], episodes, stored.Flags, stored.Band)], Now.ToUnixTimeMilliseconds(), CancellationToken.None);
        Assert.That(await hooks.DueAsync(Now.ToUnixTimeMilliseconds(), 100, CancellationToken.None), Has.Count.EqualTo(3));

        // Rescored history without the inactive condition: the flag is retracted.
        await health.SaveAsync([new ScoredAccount(work, [Day(today - 2), Day(today - 1), Day(today)], [episodes[1]], stored.Flags, stored.Band)], Now.ToUnixTimeMilliseconds(), CancellationToken.None);
        Assert.That((await flags.ListAsync(new RiskFlagQuery("rf1", null, null, null, null, null, 100), CancellationToken.None)).Select(f => f.Type), Is.EqualTo(new[] { "health_red" }));

        // Two dispatchers (replicas) asking at once: the first claims every due delivery, the second gets none.
        var lease = Now.AddMinutes(1).ToUnixTimeMilliseconds();
        Assert.That(await hooks.DueAsync(Now.ToUnixTimeMilliseconds(), 100, CancellationToken.None, lease), Has.Count.EqualTo(3));
        Assert.That(await hooks.DueAsync(Now.ToUnixTimeMilliseconds(), 100, CancellationToken.None, lease), Is.Empty);

        // Delivery bookkeeping: delivered leaves the queue; a failure waits for its next attempt; postponing moves it.
        var ids = due.Select(d => d.Delivery.Id).ToList();
        await hooks.RecordAttemptAsync(ids[0], true, 200, null, null, CancellationToken.None);
        await hooks.RecordAttemptAsync(ids[1], false, 500, "HTTP 500", Now.AddMinutes(5).ToUnixTimeMilliseconds(), CancellationToken.None);
        await hooks.PostponeAsync(ids[2], Now.AddMinutes(1).ToUnixTimeMilliseconds(), "circuit open", CancellationToken.None);
        await hooks.PostponeAsync(ids[1], Now.AddMinutes(5).ToUnixTimeMilliseconds(), "circuit open", CancellationToken.None);
        Assert.That(await hooks.DueAsync(Now.ToUnixTimeMilliseconds(), 100, CancellationToken.None), Is.Empty);
        Assert.That((await hooks.DueAsync(Now.AddMinutes(10).ToUnixTimeMilliseconds(), 100, CancellationToken.None)).Select(d => d.Delivery.Id), Is.EquivalentTo(ids.Skip(1)));
        var log = await hooks.DeliveriesAsync("h", null, null, 100, CancellationToken.None);
        Assert.That(log.Single(d => d.Id == ids[0]).State, Is.EqualTo(Delivery.Delivered));
        Assert.That((log.Single(d => d.Id == ids[1]).Attempts, log.Single(d => d.Id == ids[1]).LastError), Is.EqualTo((1L, "HTTP 500")),
            "postponing a delivery already tried keeps its attempt's error");
        Assert.That((log.Single(d => d.Id == ids[2]).Attempts, log.Single(d => d.Id == ids[2]).LastError), Is.EqualTo((0L, "circuit open")),
            "postponed: no attempt counted, the reason shown");

        Assert.That(await hooks.DeleteAsync("h", CancellationToken.None), Is.True);
        Assert.That(await hooks.DeliveriesAsync("h", null, null, 100, CancellationToken.None), Is.Empty);
    }

    /// <summary>
    /// The stored health document with its override (GET .../health's read: a kept prepared statement on SQLite,
    /// a plain reader on SQL Server, whose INT columns must still convert), and the scorer's stale check.
    /// </summary>
    [Test]
    public async Task StoredHealth_WithItsOverride_AndTheStaleCheck()
    {
        var health = new HealthRepository(_store.Db, new SqlDialect(provider));
        var expires = Now.AddDays(1).ToUnixTimeMilliseconds();
        await using (var connection = await _store.Db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO accounts (account_id, created_at, updated_at, health_day, health_json, health_computed_at,
                                      override_score, override_band, override_reason, override_expires_at, override_set_by, override_set_at)
                VALUES ('sh', 0, 0, 20500, '{"score":42}', 1234, 80, 'green', 'exec sponsor engaged', @expires, 'csm', 999)
                """, new { expires });
        }

        var stored = await health.StoredAsync("sh", Now, CancellationToken.None);
        var expired = await health.StoredAsync("sh", DateTimeOffset.FromUnixTimeMilliseconds(expires).AddSeconds(1), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That((stored?.Day, Text(stored?.Json), stored?.ComputedAt), Is.EqualTo(((int?)20500, "{\"score\":42}", 1234L)));
            Assert.That((stored?.Override?.Score, stored?.Override?.Band, stored?.Override?.Reason), Is.EqualTo(((int?)80, "green", "exec sponsor engaged")));
            Assert.That(expired?.Override, Is.Null, "an expired override no longer counts");
        });

        // Scored through day 20500: stale on day 20501, not on 20500 (the idle poll's index question).
        Assert.That(await health.DueAsync(20500, 0, 10, CancellationToken.None), Is.Empty);
        Assert.That((await health.DueAsync(20501, 0, 10, CancellationToken.None)).Select(w => w.AccountId), Is.EqualTo(new[] { "sh" }));
    }

    private static string? Text(byte[]? utf8) => utf8 is null ? null : System.Text.Encoding.UTF8.GetString(utf8);
}
