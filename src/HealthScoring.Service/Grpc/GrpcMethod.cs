using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace HealthScoring.Service.Grpc;

/// <summary>One served method: how to read its request(s), run its handler, and which scope it needs.</summary>
internal abstract class GrpcMethod(string path, string? requiredScope)
{
    /// <summary>The HTTP/2 path, <c>/package.Service/Method</c>.</summary>
    public string Path { get; } = path;

    /// <summary>The API key scope a caller needs; null for methods open to all (health checks).</summary>
    public string? RequiredScope { get; } = requiredScope;

    public abstract Task<IMessage> InvokeAsync(GrpcMessageReader reader, GrpcCallContext context);

    public static GrpcMethod Unary<TRequest, TResponse>(
        string path, string? requiredScope, MessageParser<TRequest> parser,
        Func<TRequest, GrpcCallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : IMessage =>
        new UnaryMethod<TRequest, TResponse>(path, requiredScope, parser, handler);

    public static GrpcMethod ClientStreaming<TRequest, TResponse>(
        string path, string? requiredScope, MessageParser<TRequest> parser,
        Func<IAsyncEnumerable<TRequest>, GrpcCallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : IMessage =>
        new ClientStreamingMethod<TRequest, TResponse>(path, requiredScope, parser, handler);

    private sealed class UnaryMethod<TRequest, TResponse>(
        string path, string? requiredScope, MessageParser<TRequest> parser,
        Func<TRequest, GrpcCallContext, Task<TResponse>> handler) : GrpcMethod(path, requiredScope)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : IMessage
    {
        public override async Task<IMessage> InvokeAsync(GrpcMessageReader reader, GrpcCallContext context)
        {
            var request = await reader.ReadAsync(parser, context.CancellationToken)
                ?? throw new RpcException(StatusCode.Internal, "A unary call ended without its request message.");
            if (await reader.ReadAsync(parser, context.CancellationToken) is not null)
            {
                throw new RpcException(StatusCode.Internal, "A unary call carried more than one request message.");
            }

            return await handler(request, context);
        }
    }

    private sealed class ClientStreamingMethod<TRequest, TResponse>(
        string path, string? requiredScope, MessageParser<TRequest> parser,
        Func<IAsyncEnumerable<TRequest>, GrpcCallContext, Task<TResponse>> handler) : GrpcMethod(path, requiredScope)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : IMessage
    {
        public override async Task<IMessage> InvokeAsync(GrpcMessageReader reader, GrpcCallContext context) =>
            await handler(ReadAll(reader, context.CancellationToken), context);

        private async IAsyncEnumerable<TRequest> ReadAll(GrpcMessageReader reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            while (await reader.ReadAsync(parser, cancellationToken) is { } message)
            {
                yield return message;
            }
        }
    }
}
