using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Grpc.Health.V1;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Grpc;

/// <summary>The gRPC protocol layer over real HTTP/2, byte by byte.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class GrpcProtocolTests : ServiceFixture
{
    private protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["HealthScoring:Grpc:MaxMessageBytes"] = "65536",
    };

    [Test]
    public async Task Ingest_FrameSplitAcrossReads_IsReassembled()
    {
        var frame = GrpcTestClient.Frame(Events.Batch("split", 20, accountPrefix: "split"));
        // Header split inside the length, payload split in three.
        var chunks = new[] { frame[..2], frame[2..4], frame[4..30], frame[30..100], frame[100..] };

        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, chunks, pauseBetweenChunks: TimeSpan.FromMilliseconds(30));

        Assert.That(reply.Status, Is.EqualTo(0), reply.Message);
        Assert.That(reply.Single(IngestResponse.Parser).Accepted, Is.EqualTo(20));
    }

    [Test]
    public async Task IngestStream_SeveralMessagesInOneChunkAndAcrossChunks_AreAllRead()
    {
        var frames = Enumerable.Range(0, 4).Select(i => GrpcTestClient.Frame(Events.Batch($"multi{i}", 10, accountPrefix: "multi"))).ToArray();
        // Two messages in one write, then one message split across two writes, then the last alone.
        var chunks = new[] { frames[0].Concat(frames[1]).Concat(frames[2][..7]).ToArray(), frames[2][7..], frames[3] };

        var reply = await Grpc.SendAsync(GrpcTestClient.IngestStream, chunks, pauseBetweenChunks: TimeSpan.FromMilliseconds(20));

        Assert.That(reply.Status, Is.EqualTo(0), reply.Message);
        var response = reply.Single(IngestResponse.Parser);
        Assert.That(response.Accepted, Is.EqualTo(40));
        Assert.That(response.Duplicates, Is.Zero);
    }

    [Test]
    public async Task Ingest_DeclaredLengthOverLimit_IsResourceExhausted()
    {
        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [GrpcTestClient.FrameBytes(new byte[10], declaredLength: 70_000)]);

        Assert.That(reply.Status, Is.EqualTo(8));
        Assert.That(reply.Message, Does.Contain("larger than max").And.Contain("65536"));
    }

    [Test]
    public async Task Ingest_GzipBombOverLimit_IsResourceExhausted()
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zip.Write(new byte[1_000_000]);
        }

        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [GrpcTestClient.FrameBytes(buffer.ToArray(), flag: 1)],
            headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });

        Assert.That(reply.Status, Is.EqualTo(8));
        Assert.That(reply.Message, Does.Contain("after decompression"));
    }

    [Test]
    public async Task Ingest_GzipCompressedMessage_IsAccepted()
    {
        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest,
            [GrpcTestClient.Frame(Events.Batch("gz", 5, accountPrefix: "gz"), gzip: true)],
            headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });

        Assert.That(reply.Status, Is.EqualTo(0), reply.Message);
        Assert.That(reply.Single(IngestResponse.Parser).Accepted, Is.EqualTo(5));
    }

    [TestCase((byte)2, "", "compressed-flag byte 2")]
    [TestCase((byte)1, "", "no grpc-encoding")]
    public async Task Ingest_BadCompressedFlag_IsInternalWithReason(byte flag, string encoding, string expected)
    {
        var payload = Events.Batch("flag", 1).ToByteArray();

        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [GrpcTestClient.FrameBytes(payload, flag)]);

        Assert.That(reply.Status, Is.EqualTo(13));
        Assert.That(reply.Message, Does.Contain(expected));
    }

    [Test]
    public async Task Ingest_UnsupportedEncoding_IsUnimplementedAndListsSupported()
    {
        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [GrpcTestClient.Frame(Events.Batch("enc", 1))],
            headers: new Dictionary<string, string> { ["grpc-encoding"] = "snappy" });

        Assert.That(reply.Status, Is.EqualTo(12));
        Assert.That(reply.Metadata["grpc-accept-encoding"], Does.Contain("gzip"));
    }

    [Test]
    public async Task IngestStream_DeadlinePassesWhileClientIsSending_IsDeadlineExceeded()
    {
        var frame = GrpcTestClient.Frame(Events.Batch("deadline", 2, accountPrefix: "deadline"));

        var reply = await Grpc.SendAsync(GrpcTestClient.IngestStream, [frame, frame],
            headers: new Dictionary<string, string> { ["grpc-timeout"] = "300m" },
            pauseBetweenChunks: TimeSpan.FromSeconds(2));

        Assert.That(reply.Status, Is.EqualTo(4));
        Assert.That(reply.Message, Does.Contain("Deadline"));
    }

    [Test]
    public async Task Ingest_InvalidTimeoutHeader_IsInvalidArgument()
    {
        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [GrpcTestClient.Frame(Events.Batch("tmo", 1))],
            headers: new Dictionary<string, string> { ["grpc-timeout"] = "soon" });

        Assert.That(reply.Status, Is.EqualTo(3));
    }

    [Test]
    public async Task UnknownMethod_IsUnimplemented()
    {
        var reply = await Grpc.CallAsync("/healthscoring.v1.IngestionService/Delete", Events.Batch("x", 1));

        Assert.That(reply.Status, Is.EqualTo(12));
        Assert.That(reply.Message, Does.Contain("/healthscoring.v1.IngestionService/Delete"));
    }

    [Test]
    public async Task WrongContentType_Is415WithGrpcStatus()
    {
        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [GrpcTestClient.Frame(Events.Batch("ct", 1))], contentType: "application/json");

        Assert.That(reply.HttpStatus, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(reply.Status, Is.EqualTo(13));
        Assert.That(reply.Message, Does.Contain("application/grpc"));
    }

    [Test]
    public async Task MalformedProtobuf_IsInvalidArgument()
    {
        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [GrpcTestClient.FrameBytes([0x0A, 0xFF, 0xFF, 0xFF, 0x7F, 0x01])]);

        Assert.That(reply.Status, Is.EqualTo(3));
        Assert.That(reply.Message, Does.Contain("healthscoring.v1.IngestRequest"));
    }

    [Test]
    public async Task Unary_TwoMessages_IsInternal()
    {
        var reply = await Grpc.CallAsync(GrpcTestClient.Ingest, Events.Batch("two-a", 1), Events.Batch("two-b", 1));

        Assert.That(reply.Status, Is.EqualTo(13));
        Assert.That(reply.Message, Does.Contain("more than one"));
    }

    [Test]
    public async Task Unary_BodyEndsInsideFrame_IsInternal()
    {
        var frame = GrpcTestClient.Frame(Events.Batch("cut", 3));

        var reply = await Grpc.SendAsync(GrpcTestClient.Ingest, [frame[..^4]]);

        Assert.That(reply.Status, Is.EqualTo(13));
        Assert.That(reply.Message, Does.Contain("incomplete"));
    }

    [Test]
    public async Task HealthCheck_NeedsNoKey_AndReportsServing()
    {
        using var anonymous = Service.GrpcClient(key: null);

        var reply = await anonymous.CallAsync("/grpc.health.v1.Health/Check", new HealthCheckRequest());

        Assert.That(reply.Status, Is.EqualTo(0), reply.Message);
        Assert.That(reply.Single(HealthCheckResponse.Parser).Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test]
    public async Task HealthCheck_UnknownService_IsNotFound()
    {
        var reply = await Grpc.CallAsync("/grpc.health.v1.Health/Check", new HealthCheckRequest { Service = "nope" });

        Assert.That(reply.Status, Is.EqualTo(5));
    }

    [Test]
    public async Task RestRoutes_AreNotServedOnTheGrpcPort()
    {
        var reply = await Grpc.SendAsync("/api/v1/accounts/x", [], method: "GET");

        Assert.That(reply.Status, Is.Not.EqualTo(0));
        Assert.That(reply.Metadata.ContainsKey("grpc-status"), Is.True);
    }

    [Test]
    public async Task GrpcCalls_AreNotServedOnTheRestPort()
    {
        using var http = Service.RestClient();
        using var content = new ByteArrayContent(GrpcTestClient.Frame(Events.Batch("rest", 1)));
        content.Headers.ContentType = new("application/grpc");

        using var response = await http.PostAsync(GrpcTestClient.Ingest, content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
