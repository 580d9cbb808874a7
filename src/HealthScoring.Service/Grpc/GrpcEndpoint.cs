using System.Diagnostics;
using HealthScoring.Service.Auth;
using Microsoft.AspNetCore.Http.Features;

namespace HealthScoring.Service.Grpc;

/// <summary>
/// The gRPC edge on Kestrel's HTTP/2, without Grpc.AspNetCore: checks the request is a gRPC call,
/// finds the method, authenticates, applies <c>grpc-timeout</c>, runs the handler and answers with
/// status trailers (or a trailers-only response for an error before any message).
/// </summary>
internal sealed partial class GrpcEndpoint(
    GrpcMethodRegistry registry,
    IApiKeyAuthenticator authenticator,
    IHostApplicationLifetime lifetime,
    GrpcOptions options,
    ILogger<GrpcEndpoint> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            WriteStatus(context, StatusCode.Internal, $"gRPC calls are HTTP/2 POST requests; got {request.Method}.");
            return;
        }

        if (!IsGrpcContentType(request.ContentType))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            WriteStatus(context, StatusCode.Internal,
                $"Content-Type '{request.ContentType}' is not supported: send application/grpc (protobuf).");
            return;
        }

        if (!registry.TryGet(request.Path.Value ?? "", out var method))
        {
            WriteStatus(context, StatusCode.Unimplemented, $"Method {request.Path} is not implemented by this server.");
            return;
        }

        var encoding = request.Headers["grpc-encoding"].ToString();
        if (encoding is not ("" or "identity" or "gzip"))
        {
            context.Response.Headers["grpc-accept-encoding"] = "identity,gzip";
            WriteStatus(context, StatusCode.Unimplemented,
                $"grpc-encoding '{encoding}' is not supported; use identity or gzip.");
            return;
        }

        var timeoutHeader = request.Headers["grpc-timeout"].ToString();
        TimeSpan? timeout = null;
        if (timeoutHeader.Length > 0)
        {
            if (!GrpcTimeout.TryParse(timeoutHeader, out var parsed))
            {
                WriteStatus(context, StatusCode.InvalidArgument, $"grpc-timeout '{timeoutHeader}' is not a valid timeout.");
                return;
            }

            timeout = parsed;
        }

        ApiKeyPrincipal? caller = null;
        if (method.RequiredScope is { } scope)
        {
            caller = await authenticator.AuthenticateAsync(request.Headers.Authorization.ToString(), context.RequestAborted);
            if (caller is null)
            {
                WriteStatus(context, StatusCode.Unauthenticated,
                    "Missing or unknown API key: send the metadata 'authorization: Bearer <key>'.");
                return;
            }

            if (!caller.HasScope(scope))
            {
                WriteStatus(context, StatusCode.PermissionDenied,
                    $"The API key '{caller.Name}' lacks the '{scope}' scope needed for {method.Path}.");
                return;
            }
        }

        // Message sizes are bounded per message below; a client stream itself may be long.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = null;
        }

        await InvokeAsync(context, method, caller, timeout, encoding == "gzip");
    }

    private async Task InvokeAsync(HttpContext context, GrpcMethod method, ApiKeyPrincipal? caller, TimeSpan? timeout, bool gzip)
    {
        // A grpc-timeout longer than the server's maximum is cut to it; no grpc-timeout means no deadline.
        if (timeout > options.MaxDeadline)
        {
            timeout = options.MaxDeadline;
        }

        using var deadline = new CancellationTokenSource();
        if (timeout is { } t)
        {
            deadline.CancelAfter(t);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(
            deadline.Token, context.RequestAborted, lifetime.ApplicationStopping);
        var reader = new GrpcMessageReader(context.Request.BodyReader, options.MaxMessageBytes, gzip);
        var call = new GrpcCallContext(caller, timeout is null ? null : DateTimeOffset.UtcNow + timeout.Value, linked.Token);
        try
        {
            var reply = await method.InvokeAsync(reader, call);
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-accept-encoding"] = "identity,gzip";
            await GrpcMessageWriter.WriteAsync(context.Response.BodyWriter, reply, linked.Token);
            context.Response.AppendTrailer("grpc-status", "0");
        }
        catch (RpcException ex)
        {
            WriteStatus(context, ex.Status, ex.Message, ex.Trailers);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            WriteStatus(context, StatusCode.DeadlineExceeded, $"Deadline exceeded: the call's deadline of {timeout?.TotalMilliseconds:0} ms passed.");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client cancelled or went away: nobody is left to read a status.
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            WriteStatus(context, StatusCode.Unavailable, "The server is shutting down; retry the call.");
        }
        catch (Exception ex)
        {
            var traceId = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
            LogUnhandled(logger, ex, method.Path, traceId);
            WriteStatus(context, StatusCode.Internal, $"Internal error (trace {traceId}); the call may be retried.");
        }
    }

    private static bool IsGrpcContentType(string? contentType) =>
        contentType is not null
        && (contentType.Equals("application/grpc", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/grpc+proto", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/grpc;", StringComparison.OrdinalIgnoreCase));

    /// <summary>A trailers-only response when nothing was sent yet, else status trailers after the body.</summary>
    private static void WriteStatus(HttpContext context, StatusCode status, string message, IReadOnlyDictionary<string, string>? extra = null)
    {
        var response = context.Response;
        var code = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var encoded = GrpcMessageEncoding.Encode(message);
        if (!response.HasStarted)
        {
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = code;
            response.Headers["grpc-message"] = encoded;
            foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            {
                response.Headers[key] = value;
            }

            return;
        }

        response.AppendTrailer("grpc-status", code);
        response.AppendTrailer("grpc-message", encoded);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            response.AppendTrailer(key, value);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "gRPC method {Method} failed (trace {TraceId})")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string traceId);
}
