using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HealthScoring.Service.Hosting;

/// <summary>
/// The two Kestrel endpoints of CONTRACT: <c>Rest</c> (HTTP/1.1, default :8080) and <c>Grpc</c> (cleartext
/// HTTP/2 with prior knowledge, default :8081). Connections accepted on the gRPC endpoint are marked, so
/// the gRPC edge serves only that port and the REST pipeline only the other.
/// </summary>
internal static class KestrelEndpoints
{
    private const string GrpcMarker = "healthscoring.grpc-endpoint";

    /// <summary>Largest REST request body (JSON); the gRPC edge sets its own per-message limit.</summary>
    public const long MaxRestBodyBytes = 1024 * 1024;

    public static WebApplicationBuilder AddKestrelEndpoints(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRestBodyBytes;
            kestrel.Configure(context.Configuration.GetSection("Kestrel"), reloadOnChange: false)
                .Endpoint("Rest", endpoint => endpoint.ListenOptions.Protocols = HttpProtocols.Http1)
                .Endpoint("Grpc", endpoint =>
                {
                    endpoint.ListenOptions.Protocols = HttpProtocols.Http2;
                    endpoint.ListenOptions.Use(next => connection =>
                    {
                        connection.Items[GrpcMarker] = true;
                        return next(connection);
                    });
                });
        });
        return builder;
    }

    public static bool IsGrpcEndpoint(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(GrpcMarker) == true;
}
