using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using HealthScoring.Protos.V1;

namespace HealthScoring.Bench.Load;

/// <summary>How one call ended: the grpc-status (-1: no gRPC answer at all) and the reply's counts.</summary>
internal readonly record struct CallResult(int Status, int Accepted, int Duplicates, int Rejected);

/// <summary>
/// Unary <c>IngestionService/Ingest</c> over HttpClient's HTTP/2 with prior knowledge, as a gRPC client
/// sends it. Each connection is its own handler, so <c>connections</c> really means TCP connections.
/// </summary>
internal sealed class GrpcIngestClient : IDisposable
{
    public const string IngestPath = "/healthscoring.v1.IngestionService/Ingest";

    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");

    private readonly HttpClient[] _connections;
    private readonly AuthenticationHeaderValue _authorization;

    public GrpcIngestClient(Uri grpcUrl, string apiKey, int connections)
    {
        _authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        _connections = Enumerable.Range(0, connections).Select(_ => new HttpClient(new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        })
        {
            BaseAddress = grpcUrl,
            Timeout = TimeSpan.FromSeconds(60),
        }).ToArray();
    }

    /// <summary>A request framed for the wire: compressed flag 0, 4-byte big-endian length, the message.</summary>
    public static byte[] Frame(Google.Protobuf.IMessage request)
    {
        var body = new byte[5 + request.CalculateSize()];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), (uint)(body.Length - 5));
        Google.Protobuf.MessageExtensions.WriteTo(request, body.AsSpan(5));
        return body;
    }

    public async Task<CallResult> IngestAsync(byte[] body, int length, int connection, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, IngestPath)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body, 0, length),
        };
        request.Content.Headers.ContentType = GrpcContentType;
        request.Headers.Authorization = _authorization;
        request.Headers.TryAddWithoutValidation("te", "trailers");
        try
        {
            using var response = await _connections[connection % _connections.Length].SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            var reply = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var status = GrpcStatus(response);
            if (status != 0 || reply.Length < 5)
            {
                return new CallResult(status, 0, 0, 0);
            }

            var message = IngestResponse.Parser.ParseFrom(reply.AsSpan(5, (int)BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(1))));
            return new CallResult(0, message.Accepted, message.Duplicates, message.Rejected.Count);
        }
        catch (HttpRequestException)
        {
            return new CallResult(-1, 0, 0, 0);
        }
    }

    /// <summary>grpc-status from the trailers, or from the headers of a trailers-only answer; -1 when absent.</summary>
    private static int GrpcStatus(HttpResponseMessage response)
    {
        var values = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer
            : response.Headers.TryGetValues("grpc-status", out var header) ? header
            : null;
        return values?.FirstOrDefault() is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : -1;
    }

    public void Dispose()
    {
        foreach (var client in _connections)
        {
            client.Dispose();
        }
    }
}
