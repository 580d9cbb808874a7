using HealthScoring.Service.Grpc;
using HealthScoring.Service.Hosting;

namespace HealthScoring.Service.Ingestion;

internal static class IngestionRegistration
{
    /// <summary>gRPC ingestion: validation, the group-commit writer and the idempotency key purge.</summary>
    public static WebApplicationBuilder AddIngestion(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<IngestionOptions>(builder.Configuration, IngestionOptions.Section);
        services.AddSingleton<EventValidator>();
        services.AddSingleton<IngestionWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestionWriter>());
        services.AddHostedService<IdempotencyKeyPurger>();
        services.AddSingleton<IGrpcService, IngestionGrpcService>();
        services.AddSingleton<IGrpcService, GrpcHealthService>();
        return builder;
    }
}
