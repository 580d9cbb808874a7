using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Interop;

/// <summary>
/// The gRPC edge as a real third-party client sees it: @grpc/grpc-js (Node.js) through tests/interop/client.mjs,
/// against the real service process with small limits (50 events per batch, 64 KiB per message).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class GrpcJsInteropTests
{
    private const int MaxBatchEvents = 50;
    private const int MaxMessageBytes = 65536;

    private ServiceProcess _service = null!;
    private GrpcJsClient _grpcJs = null!;
    private string _ingestKey = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        GrpcJsClient.EnsureInstalled();
        _service = await ServiceProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["HealthScoring:Ingestion:MaxBatchEvents"] = MaxBatchEvents.ToString(),
            ["HealthScoring:Grpc:MaxMessageBytes"] = MaxMessageBytes.ToString(),
        });
        _grpcJs = new GrpcJsClient(_service.GrpcUrl);
        // Senders hold an ingest-only key, not the admin key.
        _ingestKey = await NewKeyAsync("grpc-js sender", "ingest");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }

    [Test]
    public async Task GrpcJs_UnaryValidBatch_AcceptsEveryEvent()
    {
        var account = NewAccount();

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = JsEvent.Batch(account, "ok", 3) });

        AssertSummary(result, accepted: 3);
    }

    [Test]
    public async Task GrpcJs_UnaryMixedBatch_StoresValidAndRejectsInvalidWithReasons()
    {
        var account = NewAccount();
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        JsEvent[] events =
        [
            JsEvent.Valid(account, "mixed-0"),
            new("mixed-1", account, Name: null, at),
            JsEvent.Valid(account, "mixed-2", userId: "u2"),
            new("mixed-3", account, "login", at, Quantity: -1),
            new("mixed-4", account, "login", OccurredAt: null),
            new("mixed-5", account, "report.exported", at, Quantity: 2.5, Properties: new Dictionary<string, string> { ["format"] = "pdf" }),
        ];

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = events });

        Assert.That(result.Code, Is.EqualTo(0), result.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(result.Response!.Accepted, Is.EqualTo(3), result.ToString());
            Assert.That(result.Response.Duplicates, Is.Zero, result.ToString());
            Assert.That(result.Response.Rejected, Is.EqualTo(new[]
            {
                new JsRejection(1, "mixed-1", "name", "is required"),
                new JsRejection(3, "mixed-3", "quantity", "must not be negative"),
                new JsRejection(4, "mixed-4", "occurred_at", "is required"),
            }), result.ToString());
        });
        Assert.That(await StoredEventCountAsync(account), Is.EqualTo(3), "the three valid events are stored, each once");
    }

    [Test]
    public async Task GrpcJs_UnaryEmptyBatch_IsInvalidArgument()
    {
        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = [] });

        Assert.That(result.Code, Is.EqualTo(3), result.ToString());
        Assert.That(result.Details, Does.Contain("no events"));
        Assert.That(result.Response, Is.Null);
    }

    [Test]
    public async Task GrpcJs_UnaryBatchOverServerLimit_IsInvalidArgumentAndStoresNothing()
    {
        var account = NewAccount();

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = JsEvent.Batch(account, "long", MaxBatchEvents + 1) });

        Assert.That(result.Code, Is.EqualTo(3), result.ToString());
        Assert.That(result.Details, Does.Contain($"{MaxBatchEvents + 1} events").And.Contain($"at most {MaxBatchEvents}"));
        Assert.That(await StoredEventCountAsync(account), Is.Null, "no event of a refused batch is stored");
    }

    [Test]
    public async Task GrpcJs_CallWithoutApiKey_IsUnauthenticated()
    {
        var result = await _grpcJs.RunAsync(
            new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = JsEvent.Batch(NewAccount(), "nokey", 1) }, apiKey: null);

        Assert.That(result.Code, Is.EqualTo(16), result.ToString());
        Assert.That(result.Details, Does.Contain("authorization: Bearer"));
    }

    [Test]
    public async Task GrpcJs_KeyWithOnlyReadScope_IsPermissionDeniedNamingKeyAndScope()
    {
        // A non-ASCII name and a '%' also check grpc-message percent-encoding end to end: grpc-js must decode
        // exactly the text the server meant.
        const string name = "lecture seule é ✓ 100%";
        var readKey = await NewKeyAsync(name, "read");

        var result = await _grpcJs.RunAsync(
            new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = JsEvent.Batch(NewAccount(), "ro", 1) }, readKey);

        Assert.That(result.Code, Is.EqualTo(7), result.ToString());
        Assert.That(result.Details, Does.Contain($"'{name}'").And.Contain("'ingest' scope"));
    }

    [Test]
    public async Task GrpcJs_IngestStreamOfSeveralMessages_ReturnsOneSummaryOfAll()
    {
        var account = NewAccount();

        // grpc-js fails a client-streaming call that gets more than one reply message, so an OK with a
        // response is also the proof of exactly one summary.
        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.IngestStream)
        {
            Batches = [JsEvent.Batch(account, "s0", 4), JsEvent.Batch(account, "s1", 4), JsEvent.Batch(account, "s2", 4)],
        });

        AssertSummary(result, accepted: 12);
        Assert.That(result.MessagesSent, Is.EqualTo(3));
    }

    [Test]
    public async Task GrpcJs_IngestStreamSendingSameEventsTwice_CountsThemAsDuplicates()
    {
        var account = NewAccount();
        var batch = JsEvent.Batch(account, "twice", 5);

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.IngestStream) { Batches = [batch, batch] });

        AssertSummary(result, accepted: 5, duplicates: 5);
        Assert.That(await StoredEventCountAsync(account), Is.EqualTo(5), "a duplicate is not counted twice");
    }

    [Test]
    public async Task GrpcJs_IngestStreamRejection_IsIndexedAcrossTheWholeStream()
    {
        var account = NewAccount();
        var second = new[] { JsEvent.Valid(account, "idx-2"), new JsEvent("idx-3", account, "bad name!", DateTimeOffset.UtcNow.AddMinutes(-1)) };

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.IngestStream) { Batches = [JsEvent.Batch(account, "idx-first", 2), second] });

        Assert.That(result.Code, Is.EqualTo(0), result.ToString());
        Assert.That(result.Response!.Accepted, Is.EqualTo(3), result.ToString());
        Assert.That(result.Response.Rejected, Has.Count.EqualTo(1), result.ToString());
        Assert.That(result.Response.Rejected![0].Index, Is.EqualTo(3), "index 1 of the second message, after 2 events in the first");
        Assert.That(result.Response.Rejected[0].Field, Is.EqualTo("name"));
    }

    [Test]
    public async Task GrpcJs_DeadlinePassesWhileStreamIsStillSending_IsDeadlineExceeded()
    {
        var account = NewAccount();

        // A 500 ms deadline on a stream whose second message would come 5 s after the first. grpc-js sends
        // grpc-timeout and also runs its own timer; both fire at about the same moment, so the status may be
        // grpc-js's ("Deadline exceeded after 0.5s, ...") or the server's ("Deadline exceeded: the call's
        // grpc-timeout ..."). GrpcJsServerDeadlineTests sees the server's alone.
        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.IngestStream)
        {
            Batches = [JsEvent.Batch(account, "slow-0", 2), JsEvent.Batch(account, "slow-1", 2)],
            PauseMs = 5000,
            DeadlineMs = 500,
        });

        Assert.That(result.Code, Is.EqualTo(4), result.ToString());
        Assert.That(result.Details, Does.Contain("Deadline exceeded").IgnoreCase);
        Assert.That(result.MessagesSent, Is.EqualTo(1), "the call ended before the slow second message was due");
    }

    [Test]
    public async Task GrpcJs_MessageOverServerSizeLimit_IsResourceExhaustedByTheServer()
    {
        var account = NewAccount();
        var big = new JsEvent("big", account, "login", DateTimeOffset.UtcNow.AddMinutes(-1),
            Properties: new Dictionary<string, string> { ["pad"] = new string('x', 100_000) });

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = [big] });

        // grpc-js has no send limit by default (grpc.max_send_message_length = -1), so the message goes out
        // and the status is the server's: "Received message larger than max" (grpc-js itself would say "Sent").
        Assert.That(result.Code, Is.EqualTo(8), result.ToString());
        Assert.That(result.Details, Does.StartWith("Received message larger than max").And.Contain($"{MaxMessageBytes} bytes"));
        Assert.That(await StoredEventCountAsync(account), Is.Null);
    }

    [Test]
    public async Task GrpcJs_GzipCompressedCall_IsAccepted()
    {
        var account = NewAccount();

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = JsEvent.Batch(account, "gz", 4), Compression = "gzip" });

        AssertSummary(result, accepted: 4);
        Assert.That(await StoredEventCountAsync(account), Is.EqualTo(4));
    }

    [Test]
    public async Task GrpcJs_GzipMessageInflatingPastSizeLimit_IsResourceExhaustedAfterDecompression()
    {
        // 100 KB of one letter compresses to a few hundred bytes: only a server that received it gzip-compressed
        // from grpc-js (and inflated it) can find it too large, so this also proves grpc-js compressed the call.
        var big = new JsEvent("gz-big", NewAccount(), "login", DateTimeOffset.UtcNow.AddMinutes(-1),
            Properties: new Dictionary<string, string> { ["pad"] = new string('x', 100_000) });

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.Ingest) { Events = [big], Compression = "gzip" });

        Assert.That(result.Code, Is.EqualTo(8), result.ToString());
        Assert.That(result.Details, Does.Contain("after decompression"));
    }

    [Test]
    public async Task GrpcJs_HealthCheckWithoutKey_IsServing()
    {
        var result = await _grpcJs.RunAsync(new GrpcJsScenario(GrpcJsScenario.HealthCheck), apiKey: null);

        Assert.That(result.Code, Is.EqualTo(0), result.ToString());
        Assert.That(result.Response?.Status, Is.EqualTo("SERVING"), result.ToString());
    }

    [Test]
    public async Task GrpcJs_UnknownMethod_IsUnimplemented()
    {
        const string method = "/healthscoring.v1.IngestionService/Nope";

        var result = await IngestAsync(new GrpcJsScenario(GrpcJsScenario.UnknownMethod)
        {
            Method = method,
            Events = JsEvent.Batch(NewAccount(), "nope", 1),
        });

        Assert.That(result.Code, Is.EqualTo(12), result.ToString());
        Assert.That(result.Details, Does.Contain(method));
    }

    private static string NewAccount() => $"js-{Guid.NewGuid():N}";

    /// <summary>An OK call whose reply has these counts and no rejection.</summary>
    private static void AssertSummary(GrpcJsResult result, int accepted, int duplicates = 0)
    {
        Assert.That(result.Code, Is.EqualTo(0), result.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(result.Response?.Accepted, Is.EqualTo(accepted), result.ToString());
            Assert.That(result.Response?.Duplicates, Is.EqualTo(duplicates), result.ToString());
            Assert.That(result.Response?.Rejected, Is.Empty, result.ToString());
        });
    }

    private Task<GrpcJsResult> IngestAsync(GrpcJsScenario scenario) => _grpcJs.RunAsync(scenario, _ingestKey);

    private async Task<string> NewKeyAsync(string name, params string[] scopes)
    {
        using var admin = _service.RestClient();
        return await admin.CreateKeyAsync(name, scopes);
    }

    /// <summary>usage.eventCount of the account over REST, or null when the service does not know the account.</summary>
    private async Task<long?> StoredEventCountAsync(string accountId)
    {
        using var reader = _service.RestClient();
        return await reader.EventCountAsync(accountId);
    }
}
