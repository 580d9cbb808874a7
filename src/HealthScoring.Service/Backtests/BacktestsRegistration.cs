namespace HealthScoring.Service.Backtests;

internal static class BacktestsRegistration
{
    public static WebApplicationBuilder AddBacktests(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<BacktestReplay>();
        return builder;
    }
}
