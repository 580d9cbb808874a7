namespace HealthScoring.Service.Accounts;

internal static class AccountsRegistration
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AccountRepository>();
        builder.Services.AddSingleton<PortfolioRepository>();
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }
}
