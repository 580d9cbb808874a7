using HealthScoring.Service.Hosting;

namespace HealthScoring.Service.Grpc;

/// <summary>A set of gRPC methods to serve (one per proto service).</summary>
internal interface IGrpcService
{
    IEnumerable<GrpcMethod> Methods();
}

internal static class GrpcEdge
{
    public static WebApplicationBuilder AddGrpcEdge(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<GrpcOptions>(builder.Configuration, GrpcOptions.Section);
        builder.Services.AddSingleton(sp => new GrpcMethodRegistry(sp.GetServices<IGrpcService>().SelectMany(s => s.Methods())));
        builder.Services.AddSingleton<GrpcEndpoint>();
        return builder;
    }

    /// <summary>Every request on the gRPC endpoint goes to the gRPC edge, and nothing else does.</summary>
    public static IApplicationBuilder MapGrpcEndpoint(this IApplicationBuilder app) =>
        app.MapWhen(KestrelEndpoints.IsGrpcEndpoint, grpc => grpc.Run(context =>
            context.RequestServices.GetRequiredService<GrpcEndpoint>().HandleAsync(context)));
}
