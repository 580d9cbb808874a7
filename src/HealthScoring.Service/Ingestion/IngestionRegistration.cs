using HealthScoring.Service.Grpc;
using HealthScoring.Service.Hosting;

namespace HealthScoring.Service.Ingestion;

internal static class IngestionRegistration
{
    /// <summary>gRPC ingestion: validation, the group-commit writer, the usage folder and the idempotency key purge.</summary>
    public static WebApplicationBuilder AddIngestion(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<IngestionOptions>(builder.Configuration, IngestionOptions.Section);
        services.AddSingleton<EventValidator>();
        // The folder stops after the writer (hosted services stop in reverse order), so it folds the writer's last groups.
        services.AddSingleton<UsageFolder>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageFolder>());
        services.AddSingleton<IngestionWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestionWriter>());
        services.AddHostedService<IdempotencyKeyPurger>();
        services.AddSingleton<IGrpcService, IngestionGrpcService>();
        services.AddSingleton<IGrpcService, GrpcHealthService>();
        return builder;
    }
}
