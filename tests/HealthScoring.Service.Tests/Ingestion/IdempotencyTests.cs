using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Ingestion;

/// <summary>Retries and races never count an event twice.</summary>
[TestFixture]
public sealed class IdempotencyTests : ServiceFixture
{

    [Test]
    public async Task Ingest_SameBatchTwice_CountsOnce()
    {
        var batch = Events.Batch("twice", 30, accounts: 1, accountPrefix: "idem-twice");

        var first = (await Grpc.CallAsync(GrpcTestClient.Ingest, batch)).Single(IngestResponse.Parser);
        var second = (await Grpc.CallAsync(GrpcTestClient.Ingest, batch)).Single(IngestResponse.Parser);

        Assert.Multiple(() =>
        {
            Assert.That((first.Accepted, first.Duplicates), Is.EqualTo((30, 0)));
            Assert.That((second.Accepted, second.Duplicates), Is.EqualTo((0, 30)));
        });
        Assert.That(await Admin.EventCountAsync("idem-twice-0"), Is.EqualTo(30));
    }

    [Test]
    public async Task Ingest_DuplicatesInsideOneBatch_CountOnce()
    {
        var batch = new IngestRequest();
        batch.Events.Add(Events.One("idem-inside", "e1"));
        batch.Events.Add(Events.One("idem-inside", "e2"));
        batch.Events.Add(Events.One("idem-inside", "e1"));
        batch.Events.Add(Events.One("idem-inside", "e1"));
        // The same event id in another account is another event.
        batch.Events.Add(Events.One("idem-inside-other", "e1"));

        var response = (await Grpc.CallAsync(GrpcTestClient.Ingest, batch)).Single(IngestResponse.Parser);

        Assert.That((response.Accepted, response.Duplicates), Is.EqualTo((3, 2)));
        Assert.That(await Admin.EventCountAsync("idem-inside"), Is.EqualTo(2));
        Assert.That(await Admin.EventCountAsync("idem-inside-other"), Is.EqualTo(1));
    }

    [Test]
    public async Task Ingest_ConcurrentSendersWithSameIds_EachEventCountedOnce()
    {
        const int senders = 8;
        const int events = 200;
        var batch = Events.Batch("race", events, accounts: 4, accountPrefix: "idem-race");
        using var start = new SemaphoreSlim(0);

        var calls = Enumerable.Range(0, senders).Select(async _ =>
        {
            using var client = Service.GrpcClient();
            await start.WaitAsync();
            return (await client.CallAsync(GrpcTestClient.Ingest, batch)).Single(IngestResponse.Parser);
        }).ToList();
        start.Release(senders);
        var responses = await Task.WhenAll(calls);

        Assert.That(responses.Sum(r => r.Accepted), Is.EqualTo(events), "every event accepted by exactly one sender");
        Assert.That(responses.Sum(r => r.Duplicates), Is.EqualTo(events * (senders - 1)));
        long stored = 0;
        for (var a = 0; a < 4; a++)
        {
            stored += await Admin.EventCountAsync($"idem-race-{a}") ?? 0;
        }

        Assert.That(stored, Is.EqualTo(events));
    }

    [Test]
    public async Task IngestStream_RepeatedBatchesOnOneStream_CountOnce()
    {
        var batch = Events.Batch("stream-dup", 10, accounts: 1, accountPrefix: "idem-stream");

        var response = (await Grpc.CallAsync(GrpcTestClient.IngestStream, batch, batch, batch)).Single(IngestResponse.Parser);

        Assert.That((response.Accepted, response.Duplicates), Is.EqualTo((10, 20)));
        Assert.That(await Admin.EventCountAsync("idem-stream-0"), Is.EqualTo(10));
    }

    [Test]
    public async Task Account_UsageBlock_ReflectsAcceptedEvents()
    {
        var at = DateTimeOffset.UtcNow.AddHours(-3);
        var batch = new IngestRequest();
        batch.Events.Add(Events.One("usage-acct", "a", userId: "alice", at: at, quantity: 2.5));
        batch.Events.Add(Events.One("usage-acct", "b", userId: "bob", at: at.AddHours(1)));
        batch.Events.Add(Events.One("usage-acct", "c", userId: "alice", at: at.AddDays(-40)));
        batch.Events.Add(Events.One("usage-acct", "d", userId: null, at: at.AddHours(2)));

        var reply = await Grpc.CallAsync(GrpcTestClient.Ingest, batch);
        Assert.That(reply.Single(IngestResponse.Parser).Accepted, Is.EqualTo(4));

        using var response = await Admin.GetAsync("/api/v1/accounts/usage-acct");
        var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var usage = json.GetProperty("usage");
        Assert.Multiple(() =>
        {
            Assert.That(usage.GetProperty("eventCount").GetInt64(), Is.EqualTo(4));
            Assert.That(usage.GetProperty("quantityTotal").GetDouble(), Is.EqualTo(5.5), "0 counts as 1");
            Assert.That(usage.GetProperty("activeUsers30d").GetInt32(), Is.EqualTo(2), "alice and bob; the 40-day-old event is outside");
            Assert.That(usage.GetProperty("firstEventAt").GetDateTimeOffset(), Is.EqualTo(at.AddDays(-40)).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(usage.GetProperty("lastEventAt").GetDateTimeOffset(), Is.EqualTo(at.AddHours(2)).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(json.GetProperty("accountId").GetString(), Is.EqualTo("usage-acct"));
        });
    }
}
