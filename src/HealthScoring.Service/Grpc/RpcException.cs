namespace HealthScoring.Service.Grpc;

/// <summary>
/// Ends a call with a non-OK status. The message reaches the client as <c>grpc-message</c>, so it must
/// say what was wrong and what to do about it; extra trailers (e.g. a retry hint) go along.
/// </summary>
internal sealed class RpcException(
    StatusCode status,
    string message,
    IReadOnlyDictionary<string, string>? trailers = null) : Exception(message)
{
    public StatusCode Status { get; } = status;

    public IReadOnlyDictionary<string, string> Trailers { get; } = trailers ?? new Dictionary<string, string>();

    /// <summary>A load-shedding or store-down answer carrying the standard retry pushback trailer.</summary>
    public static RpcException RetryLater(StatusCode status, string message, TimeSpan retryAfter) =>
        new(status, message, new Dictionary<string, string>
        {
            ["grpc-retry-pushback-ms"] = ((long)retryAfter.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
}
