using HealthScoring.Service.Auth;

namespace HealthScoring.Service.Grpc;

/// <summary>What a method handler may know of its call: who called, and until when.</summary>
internal sealed class GrpcCallContext(ApiKeyPrincipal? caller, DateTimeOffset? deadline, CancellationToken cancellationToken)
{
    public ApiKeyPrincipal? Caller { get; } = caller;

    public DateTimeOffset? Deadline { get; } = deadline;

    /// <summary>Cancelled when the client goes away, the deadline passes or the server stops.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;
}
