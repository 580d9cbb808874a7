using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace HealthScoring.Service.Grpc;

/// <summary>Writes one uncompressed, length-prefixed message to a response body.</summary>
internal static class GrpcMessageWriter
{
    public static async ValueTask WriteAsync(PipeWriter output, IMessage message, CancellationToken cancellationToken)
    {
        var length = message.CalculateSize();
        var span = output.GetSpan(5 + length);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..5], (uint)length);
        message.WriteTo(span.Slice(5, length));
        output.Advance(5 + length);
        await output.FlushAsync(cancellationToken);
    }
}
