using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace HealthScoring.Service.Tests.Infrastructure;

/// <summary>What came back from a gRPC call, read off the wire: HTTP status, grpc-status and the messages.</summary>
internal sealed record GrpcReply(
    HttpStatusCode HttpStatus,
    int? Status,
    string? Message,
    IReadOnlyList<byte[]> Messages,
    IReadOnlyDictionary<string, string> Metadata)
{
    public T Single<T>(MessageParser<T> parser) where T : IMessage<T> =>
        Messages.Count == 1 ? parser.ParseFrom(Messages[0]) : throw new AssertionException($"expected one message, got {Messages.Count}; status {Status}: {Message}");
}

/// <summary>
/// A minimal gRPC client over HttpClient's HTTP/2 (prior knowledge), exposing the raw framing so tests can
/// send what a well-behaved client never would: split frames, bad flags, oversize lengths, wrong headers.
/// </summary>
internal sealed class GrpcTestClient(Uri baseAddress, string? key) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
    {
        BaseAddress = baseAddress,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public const string Ingest = "/healthscoring.v1.IngestionService/Ingest";
    public const string IngestStream = "/healthscoring.v1.IngestionService/IngestStream";

    public static byte[] Frame(IMessage message, bool gzip = false)
    {
        var payload = message.ToByteArray();
        if (gzip)
        {
            using var buffer = new MemoryStream();
            using (var zip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            {
                zip.Write(payload);
            }

            payload = buffer.ToArray();
        }

        return FrameBytes(payload, gzip ? (byte)1 : (byte)0);
    }

    public static byte[] FrameBytes(byte[] payload, byte flag = 0, uint? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public Task<GrpcReply> CallAsync(string path, params IMessage[] messages) =>
        SendAsync(path, [messages.SelectMany(m => Frame(m)).ToArray()]);

    /// <summary>Sends the body as the given chunks, each flushed on its own (so the server sees separate reads).</summary>
    public async Task<GrpcReply> SendAsync(
        string path,
        IReadOnlyList<byte[]> chunks,
        string contentType = "application/grpc",
        IReadOnlyDictionary<string, string>? headers = null,
        TimeSpan? pauseBetweenChunks = null,
        string method = "POST")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new ChunkedContent(chunks, pauseBetweenChunks ?? TimeSpan.Zero),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsByteArrayAsync();
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers.Concat(response.TrailingHeaders))
        {
            metadata[name] = string.Join(",", values);
        }

        var messages = new List<byte[]>();
        for (var offset = 0; offset + 5 <= body.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset + 1));
            messages.Add(body.AsSpan(offset + 5, length).ToArray());
            offset += 5 + length;
        }

        int? status = metadata.TryGetValue("grpc-status", out var s) ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : null;
        var message = metadata.TryGetValue("grpc-message", out var m) ? Uri.UnescapeDataString(m) : null;
        return new GrpcReply(response.StatusCode, status, message, messages, metadata);
    }

    public void Dispose() => _http.Dispose();

    private sealed class ChunkedContent(IReadOnlyList<byte[]> chunks, TimeSpan pause) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            foreach (var chunk in chunks)
            {
                await stream.WriteAsync(chunk);
                await stream.FlushAsync();
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause);
                }
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
