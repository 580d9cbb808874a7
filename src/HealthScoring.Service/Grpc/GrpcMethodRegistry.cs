using System.Diagnostics.CodeAnalysis;

namespace HealthScoring.Service.Grpc;

/// <summary>The methods served on the gRPC port, by path.</summary>
internal sealed class GrpcMethodRegistry(IEnumerable<GrpcMethod> methods)
{
    private readonly Dictionary<string, GrpcMethod> _byPath = methods.ToDictionary(m => m.Path, StringComparer.Ordinal);

    public bool TryGet(string path, [NotNullWhen(true)] out GrpcMethod? method) => _byPath.TryGetValue(path, out method);
}
