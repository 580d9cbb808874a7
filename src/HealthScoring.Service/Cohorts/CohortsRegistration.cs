namespace HealthScoring.Service.Cohorts;

internal static class CohortsRegistration
{
    public static WebApplicationBuilder AddCohorts(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CohortRepository>();
        return builder;
    }
}
