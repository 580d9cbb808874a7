namespace HealthScoring.Service.Risk;

internal static class RiskRegistration
{
    /// <summary>Risk flag reads (the rules run inside scoring, see Health/AccountScorer).</summary>
    public static WebApplicationBuilder AddRiskFlags(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RiskFlagRepository>();
        return builder;
    }
}
