using HealthScoring.Service.Hosting;

namespace HealthScoring.Service.Webhooks;

internal static class WebhooksRegistration
{
    /// <summary>Subscriptions, the outbox dispatcher and its HTTP client (no redirects: a delivery goes where it was registered).</summary>
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<WebhookOptions>(builder.Configuration, WebhookOptions.Section);
        services.AddSingleton<WebhookRepository>();
        services.AddHttpClient(WebhookDispatcher.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return builder;
    }
}
