using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HealthScoring.Service.Hosting;

/// <summary>
/// The service's own traces and metrics (one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>): spans for each ingest call, storage batch, scoring round and webhook delivery; counters and
/// histograms for what an operator watches. Instruments are static: the BCL makes them free when nobody listens.
/// </summary>
internal static class Telemetry
{
    public const string Name = "HealthScoring";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Events by outcome: accepted, duplicate, rejected.</summary>
    public static readonly Counter<long> IngestEvents = Meter.CreateCounter<long>("healthscoring.ingest.events", "{event}", "Events received, by outcome");

    public static readonly Histogram<double> IngestDuration = Meter.CreateHistogram<double>("healthscoring.ingest.duration", "ms", "Time to answer an ingest call (durable when OK)");

    public static readonly Histogram<double> StoreBatchDuration = Meter.CreateHistogram<double>("healthscoring.store.batch.duration", "ms", "Time of one group commit");

    public static readonly Counter<long> AccountsScored = Meter.CreateCounter<long>("healthscoring.scoring.accounts", "{account}", "Accounts scored");

    public static readonly Counter<long> UsageLoads = Meter.CreateCounter<long>("healthscoring.scoring.usage_loads", "{account}", "Accounts whose usage scoring read, by source: snapshot or rows");

    public static readonly Histogram<double> ScoringRoundDuration = Meter.CreateHistogram<double>("healthscoring.scoring.round.duration", "ms", "Time of one scoring round (load, compute, save)");

    /// <summary>Webhook delivery attempts by outcome: delivered, failed (will retry), gave_up, postponed (circuit open).</summary>
    public static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>("healthscoring.webhook.deliveries", "{delivery}", "Webhook delivery rounds, by outcome");

    /// <summary>Registers the gauges that read live state (the writer's backlog, the folder's, the scorer's lag).</summary>
    public static void ObserveState(Func<long> storeBacklogEvents, Func<long> unfoldedEvents, Func<double> scoringLagSeconds)
    {
        Meter.CreateObservableGauge("healthscoring.store.backlog", storeBacklogEvents, "{event}", "Events accepted for writing and not yet committed");
        Meter.CreateObservableGauge("healthscoring.store.unfolded", unfoldedEvents, "{event}", "Events acknowledged and not yet folded into the usage aggregates");
        Meter.CreateObservableGauge("healthscoring.scoring.lag", scoringLagSeconds, "s", "Time since the scorer last finished a pass");
    }

    /// <summary>
    /// OpenTelemetry for traces, metrics and logs: the service's own source and meter, ASP.NET Core's and the
    /// runtime's, exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the standard OTEL_* variables
    /// choose protocol, headers and intervals). Without it nothing is exported and the instruments cost nothing.
    /// </summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!otlp)
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName: builder.Configuration["OTEL_SERVICE_NAME"] ?? "healthscoring"))
            .WithTracing(tracing => tracing
                .AddSource(Name)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/healthz") && !context.Request.Path.StartsWithSegments("/readyz")))
            .WithMetrics(metrics => metrics
                .AddMeter(Name)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http"))
            .WithLogging()
            .UseOtlpExporter();
        return builder;
    }
}
