using Google.Protobuf.WellKnownTypes;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Ingestion;

/// <summary>Bad input gets a precise answer; valid events beside it are stored; the service stays up.</summary>
[TestFixture]
public sealed class BadInputTests : ServiceFixture
{
    private const int MaxBatch = 50;

    private protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["HealthScoring:Ingestion:MaxBatchEvents"] = MaxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [OneTimeTearDown]
    public void ServiceSurvived()
    {
        Assert.That(Service.HasExited, Is.False, "the service survived every bad input");
        Assert.That(Service.Output, Does.Not.Contain("Unhandled exception").And.Not.Contain("fail:"));
    }

    private static IEnumerable<TestCaseData> InvalidEvents()
    {
        var now = DateTimeOffset.UtcNow;
        yield return Case("missing event id", e => e.EventId = "", "event_id", "required");
        yield return Case("over-long event id", e => e.EventId = new string('x', 129), "event_id", "at most 128");
        yield return Case("missing account", e => e.AccountId = "", "account_id", "required");
        yield return Case("slash in account", e => e.AccountId = "a/b", "account_id", "'/'");
        yield return Case("space in user", e => e.UserId = "a b", "user_id", "whitespace");
        yield return Case("missing name", e => e.Name = "", "name", "required");
        yield return Case("bad name", e => e.Name = "-login", "name", "letter or digit");
        yield return Case("missing time", e => e.OccurredAt = null, "occurred_at", "required");
        yield return Case("future time", e => e.OccurredAt = Timestamp.FromDateTimeOffset(now.AddMinutes(10)), "occurred_at", "future");
        yield return Case("too old", e => e.OccurredAt = Timestamp.FromDateTimeOffset(now.AddDays(-401)), "occurred_at", "400 days");
        yield return Case("invalid nanos", e => e.OccurredAt = new Timestamp { Seconds = now.ToUnixTimeSeconds(), Nanos = -5 }, "occurred_at", "not a valid");
        yield return Case("NaN quantity", e => e.Quantity = double.NaN, "quantity", "finite");
        yield return Case("infinite quantity", e => e.Quantity = double.PositiveInfinity, "quantity", "finite");
        yield return Case("negative quantity", e => e.Quantity = -1, "quantity", "negative");
        yield return Case("too many properties", e =>
        {
            for (var i = 0; i < 51; i++)
            {
                e.Properties[$"k{i}"] = "v";
            }
        }, "properties", "at most 50");
        yield return Case("huge property value", e => e.Properties["big"] = new string('v', 5000), "properties", "at most 1024");
        yield return Case("huge property map", e =>
        {
            for (var i = 0; i < 20; i++)
            {
                e.Properties[$"k{i}"] = new string('v', 1000);
            }
        }, "properties", "in all");

        static TestCaseData Case(string name, Action<UsageEvent> spoil, string field, string reason) =>
            new TestCaseData(spoil, field, reason).SetName($"Ingest_InvalidEvent_{name.Replace(' ', '_')}_IsRejectedAloneWithReason");
    }

    [TestCaseSource(nameof(InvalidEvents))]
    public async Task Ingest_InvalidEvent_IsRejectedAloneWithReason(Action<UsageEvent> spoil, string field, string reason)
    {
        var account = "bad-" + Guid.NewGuid().ToString("N")[..8];
        var bad = Events.One(account, "bad");
        spoil(bad);
        var batch = new IngestRequest();
        batch.Events.Add(Events.One(account, "good-1"));
        batch.Events.Add(bad);
        batch.Events.Add(Events.One(account, "good-2"));

        var reply = await Grpc.CallAsync(GrpcTestClient.Ingest, batch);

        Assert.That(reply.Status, Is.EqualTo(0), reply.Message);
        var response = reply.Single(IngestResponse.Parser);
        Assert.That(response.Accepted, Is.EqualTo(2));
        Assert.That(response.Rejected, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(response.Rejected[0].Index, Is.EqualTo(1));
            Assert.That(response.Rejected[0].Field, Is.EqualTo(field));
            Assert.That(response.Rejected[0].Reason, Does.Contain(reason));
        });
        Assert.That(await Admin.EventCountAsync(account), Is.EqualTo(2), "the valid neighbours were stored");
    }

    [Test]
    public async Task IngestStream_RejectionIndexes_CountAcrossTheStream()
    {
        var first = Events.Batch("idx-a", 3, accounts: 1, accountPrefix: "bad-stream");
        var second = Events.Batch("idx-b", 3, accounts: 1, accountPrefix: "bad-stream");
        second.Events[1].Name = "";

        var response = (await Grpc.CallAsync(GrpcTestClient.IngestStream, first, second)).Single(IngestResponse.Parser);

        Assert.That(response.Accepted, Is.EqualTo(5));
        Assert.That(response.Rejected.Single().Index, Is.EqualTo(4));
    }

    [Test]
    public async Task Ingest_EmptyBatch_IsInvalidArgument()
    {
        var reply = await Grpc.CallAsync(GrpcTestClient.Ingest, new IngestRequest());

        Assert.That(reply.Status, Is.EqualTo(3));
        Assert.That(reply.Message, Does.Contain("no events"));
    }

    [Test]
    public async Task Ingest_OverLongBatch_IsInvalidArgumentAndStoresNothing()
    {
        var reply = await Grpc.CallAsync(GrpcTestClient.Ingest, Events.Batch("long", MaxBatch + 1, accounts: 1, accountPrefix: "bad-long"));

        Assert.That(reply.Status, Is.EqualTo(3));
        Assert.That(reply.Message, Does.Contain($"at most {MaxBatch}"));
        Assert.That(await Admin.EventCountAsync("bad-long-0"), Is.Null);
    }

    [Test]
    public async Task Ingest_MissingKey_IsUnauthenticated()
    {
        using var anonymous = Service.GrpcClient(key: null);

        var reply = await anonymous.CallAsync(GrpcTestClient.Ingest, Events.Batch("nokey", 1, accountPrefix: "bad-nokey"));

        Assert.That(reply.Status, Is.EqualTo(16));
        Assert.That(reply.Message, Does.Contain("authorization: Bearer"));
        Assert.That(await Admin.EventCountAsync("bad-nokey-0"), Is.Null);
    }

    [Test]
    public async Task Ingest_UnknownKey_IsUnauthenticated()
    {
        using var stranger = Service.GrpcClient(key: "hs_not-a-real-key");

        var reply = await stranger.CallAsync(GrpcTestClient.Ingest, Events.Batch("badkey", 1));

        Assert.That(reply.Status, Is.EqualTo(16));
    }

    [Test]
    public async Task Ingest_KeyWithoutIngestScope_IsPermissionDenied()
    {
        var readOnly = await Admin.CreateKeyAsync("reader", "read");
        using var reader = Service.GrpcClient(readOnly);

        var reply = await reader.CallAsync(GrpcTestClient.Ingest, Events.Batch("scope", 1, accountPrefix: "bad-scope"));

        Assert.That(reply.Status, Is.EqualTo(7));
        Assert.That(reply.Message, Does.Contain("'ingest' scope"));
        Assert.That(await Admin.EventCountAsync("bad-scope-0"), Is.Null);
    }

    [Test]
    public async Task Ingest_KeyWithIngestScope_IsAccepted()
    {
        var ingestOnly = await Admin.CreateKeyAsync("sender", "ingest");
        using var sender = Service.GrpcClient(ingestOnly);

        var reply = await sender.CallAsync(GrpcTestClient.Ingest, Events.Batch("scoped", 2, accounts: 1, accountPrefix: "ok-scope"));

        Assert.That(reply.Status, Is.EqualTo(0), reply.Message);
        Assert.That(reply.Single(IngestResponse.Parser).Accepted, Is.EqualTo(2));
    }

    [Test]
    public async Task Ingest_RandomBytes_AreRefusedWithoutHarm()
    {
        var random = new Random(42);
        for (var i = 0; i < 20; i++)
        {
            var bytes = new byte[random.Next(1, 400)];
            random.NextBytes(bytes);
            bytes[0] = 0;

            var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [bytes]);

            Assert.That(reply.Status, Is.Not.Null.And.Not.EqualTo(0).And.Not.EqualTo(2), $"attempt {i}: {reply.Message}");
        }

        var ok = await Grpc.CallAsync(GrpcTestClient.Ingest, Events.Batch("after-random", 3, accounts: 1, accountPrefix: "bad-after"));
        Assert.That(ok.Single(IngestResponse.Parser).Accepted, Is.EqualTo(3));
    }
}
