using HealthScoring.Service.Accounts;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Backtests;
using HealthScoring.Service.Cohorts;
using HealthScoring.Service.Grpc;
using HealthScoring.Service.Health;
using HealthScoring.Service.Hosting;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Risk;
using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Webhooks;

// Configuration (appsettings.json) comes from beside the binaries whatever the working directory is;
// relative data paths (the default SQLite store under ./data) stay relative to the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddKestrelEndpoints();
builder.AddStorage();
builder.AddApiKeys();
builder.AddGrpcEdge();
builder.AddIngestion();
builder.AddAccounts();
builder.AddHealthScoring();
builder.AddRiskFlags();
builder.AddWebhooks();
builder.AddCohorts();
builder.AddBacktests();
builder.AddRestApi();
builder.AddTelemetry();

var app = builder.Build();
Telemetry.ObserveState(
    () => app.Services.GetRequiredService<IngestionWriter>().PendingEvents,
    () => app.Services.GetRequiredService<IUsageStore>().UnfoldedEvents,
    () => app.Services.GetRequiredService<ScoringWorker>().LagSeconds);
app.MapGrpcEndpoint();
app.UseRestPipeline();
app.MapHealthEndpoints();
app.MapApiKeysApi();
app.MapAccountsApi();
app.MapHealthApi();
app.MapScorecardsApi();
app.MapBacktestsApi();
app.MapRiskApi();
app.MapWebhooksApi();
app.MapCohortsApi();
app.Run();

/// <summary>The host's entry point (public so that tests can start it).</summary>
public partial class Program;
