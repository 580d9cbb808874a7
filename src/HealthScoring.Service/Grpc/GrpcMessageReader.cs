using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Pipelines;
using Google.Protobuf;

namespace HealthScoring.Service.Grpc;

/// <summary>
/// Reads length-prefixed gRPC messages (1 byte compressed flag, 4 bytes big-endian length, payload)
/// from a request body, whatever the boundaries of the underlying reads.
/// </summary>
internal sealed class GrpcMessageReader(PipeReader body, int maxMessageBytes, bool gzipEncoded)
{
    private const int HeaderLength = 5;

    /// <summary>The next message, or null when the client has half-closed between messages.</summary>
    public async ValueTask<T?> ReadAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>, new()
    {
        while (true)
        {
            var result = await body.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryReadFrame(buffer, out var payload, out var compressed, out var consumed))
            {
                T message;
                try
                {
                    message = Parse(parser, payload, compressed);
                }
                finally
                {
                    body.AdvanceTo(consumed);
                }

                return message;
            }

            if (result.IsCompleted)
            {
                var leftover = buffer.Length;
                body.AdvanceTo(buffer.End);
                if (leftover > 0)
                {
                    throw new RpcException(StatusCode.Internal,
                        $"The request ended inside a message: {leftover} bytes of an incomplete gRPC frame.");
                }

                return null;
            }

            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            body.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private bool TryReadFrame(ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> payload, out bool compressed, out SequencePosition consumed)
    {
        payload = default;
        compressed = false;
        consumed = buffer.Start;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        compressed = header[0] switch
        {
            0 => false,
            1 => true,
            _ => throw new RpcException(StatusCode.Internal,
                $"Invalid compressed-flag byte {header[0]} in a gRPC frame header: it must be 0 or 1."),
        };
        if (compressed && !gzipEncoded)
        {
            throw new RpcException(StatusCode.Internal,
                "A message has the compressed flag set but the request has no grpc-encoding (send grpc-encoding: gzip).");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageBytes)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"Received message larger than max ({length} vs. {maxMessageBytes} bytes).");
        }

        if (buffer.Length < HeaderLength + length)
        {
            return false;
        }

        payload = buffer.Slice(HeaderLength, length);
        consumed = payload.End;
        return true;
    }

    private T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> payload, bool compressed)
        where T : class, IMessage<T>, new()
    {
        try
        {
            return compressed ? parser.ParseFrom(Decompress(payload)) : parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(StatusCode.InvalidArgument,
                $"The request message is not a valid {new T().Descriptor.FullName}: {ex.Message}");
        }
    }

    /// <summary>Inflates a gzip payload, refusing to grow past the message limit (a small bomb stays small).</summary>
    private byte[] Decompress(ReadOnlySequence<byte> payload)
    {
        using var input = new MemoryStream(payload.ToArray(), writable: false);
        try
        {
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = gzip.Read(chunk, 0, chunk.Length)) > 0)
                {
                    if (output.Length + read > maxMessageBytes)
                    {
                        throw new RpcException(StatusCode.ResourceExhausted,
                            $"Received message larger than max after decompression (over {maxMessageBytes} bytes).");
                    }

                    output.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            return output.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new RpcException(StatusCode.Internal, $"A message marked gzip-compressed could not be decompressed: {ex.Message}");
        }
    }
}
