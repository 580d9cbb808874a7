using HealthScoring.Service.Hosting;
using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Health;

internal static class HealthRegistration
{
    /// <summary>Scorecards, the scorer and its background worker, snapshots and overrides.</summary>
    public static WebApplicationBuilder AddHealthScoring(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ScoringOptions>(builder.Configuration, ScoringOptions.Section);
        services.AddSingleton<ScorecardRepository>();
        services.AddSingleton<IStoreSeed>(sp => sp.GetRequiredService<ScorecardRepository>());
        services.AddSingleton<ScorecardCatalog>();
        services.AddSingleton<HealthRepository>();
        services.AddSingleton<HealthOverrideRepository>();
        services.AddSingleton<AccountScorer>();
        services.AddSingleton<ScorerLease>();
        services.AddSingleton<ScoringWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ScoringWorker>());
        return builder;
    }
}
