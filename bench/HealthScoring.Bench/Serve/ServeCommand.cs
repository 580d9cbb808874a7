using System.Runtime;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Grpc;
using HealthScoring.Service.Hosting;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HealthScoring.Bench.Serve;

/// <summary>
/// <c>serve --handler discard|nullstore</c>: a stripped host for the ceiling phases, run as a child process
/// like the service. It is composed from the service's own registrations (Kestrel endpoints, storage for
/// API keys and /readyz, API keys, the gRPC edge), so only the ingest handler differs:
/// <c>discard</c> parses and validates then drops the events; <c>nullstore</c> is the service's whole
/// ingest pipeline (IngestionGrpcService, IngestionWriter group commit) over <see cref="DiscardingUsageStore"/>.
/// </summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var handler = args is ["--handler", var h] ? h : throw new ArgumentException("usage: serve --handler discard|nullstore");
        var builder = WebApplication.CreateBuilder();
        builder.AddKestrelEndpoints();
        builder.AddStorage();
        builder.AddApiKeys();
        builder.AddGrpcEdge();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails(); // the API key handler (auto-wired by WebApplication) answers with problem details
        switch (handler)
        {
            case "discard":
                builder.Services.AddValidatedOptions<IngestionOptions>(builder.Configuration, IngestionOptions.Section);
                builder.Services.AddSingleton<EventValidator>();
                builder.Services.AddSingleton<IGrpcService, DiscardIngestService>();
                break;
            case "nullstore":
                builder.AddIngestion();
                builder.Services.AddSingleton<IUsageStore, DiscardingUsageStore>(); // the last registration wins
                break;
            default:
                throw new ArgumentException($"Unknown handler '{handler}': use discard or nullstore.");
        }

        var app = builder.Build();
        app.MapGrpcEndpoint();
        app.MapHealthEndpoints();
        await Console.Error.WriteLineAsync($"serve --handler {handler}: server GC {GCSettings.IsServerGC}");
        await app.RunAsync();
        return 0;
    }
}
