using Grpc.Health.V1;
using HealthScoring.Service.Grpc;
using StatusCode = HealthScoring.Service.Grpc.StatusCode;

namespace HealthScoring.Service.Hosting;

/// <summary>The standard <c>grpc.health.v1.Health/Check</c>: SERVING when the store is ready. No key needed.</summary>
internal sealed class GrpcHealthService(StoreProbe probe) : IGrpcService
{
    private static readonly string[] KnownServices = ["", "healthscoring.v1.IngestionService"];

    public IEnumerable<GrpcMethod> Methods() =>
    [
        GrpcMethod.Unary<HealthCheckRequest, HealthCheckResponse>("/grpc.health.v1.Health/Check", null, HealthCheckRequest.Parser, CheckAsync),
    ];

    private async Task<HealthCheckResponse> CheckAsync(HealthCheckRequest request, GrpcCallContext context)
    {
        if (!KnownServices.Contains(request.Service, StringComparer.Ordinal))
        {
            throw new RpcException(StatusCode.NotFound, $"Unknown service '{request.Service}'.");
        }

        var ready = await probe.CheckAsync(context.CancellationToken) is null;
        return new HealthCheckResponse
        {
            Status = ready ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing,
        };
    }
}
