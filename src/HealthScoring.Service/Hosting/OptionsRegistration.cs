using Microsoft.Extensions.Options;

namespace HealthScoring.Service.Hosting;

internal static class OptionsRegistration
{
    /// <summary>Binds a section, validates it (data annotations) at start-up, and registers the value itself.</summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class, new()
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
        return services;
    }
}
