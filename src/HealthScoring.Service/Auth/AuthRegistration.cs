using HealthScoring.Service.Hosting;
using HealthScoring.Service.Storage;
using Microsoft.AspNetCore.Authentication;

namespace HealthScoring.Service.Auth;

internal static class AuthRegistration
{
    /// <summary>API keys on both ports: hashed storage, the bootstrap/first admin key, scope policies.</summary>
    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<AuthOptions>(builder.Configuration, AuthOptions.Section);
        services.AddValidatedOptions<RateLimitOptions>(builder.Configuration, RateLimitOptions.Section);
        services.AddSingleton<KeyRateLimiter>();
        services.AddSingleton<ApiKeyRepository>();
        services.AddSingleton<IApiKeyAuthenticator, ApiKeyAuthenticator>();
        services.AddSingleton<IStoreSeed, AdminKeyProvisioner>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(options =>
        {
            options.AddScopePolicies();
            // Secure by default: a route without an explicit policy still needs a valid key.
            options.FallbackPolicy = new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        });
        return builder;
    }
}
