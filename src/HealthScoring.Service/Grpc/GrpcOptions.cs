using System.ComponentModel.DataAnnotations;

namespace HealthScoring.Service.Grpc;

/// <summary><c>HealthScoring:Grpc</c>: limits of the gRPC protocol layer.</summary>
internal sealed class GrpcOptions
{
    public const string Section = "HealthScoring:Grpc";

    /// <summary>Largest message accepted, compressed or after decompression (default 4 MiB, as gRPC's default).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Longest deadline honoured; a longer grpc-timeout is cut to this.</summary>
    public TimeSpan MaxDeadline { get; set; } = TimeSpan.FromMinutes(10);
}
