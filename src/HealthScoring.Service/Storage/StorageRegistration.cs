using System.Data.Common;
using HealthScoring.Service.Hosting;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Storage;

internal static class StorageRegistration
{
    /// <summary>The store chosen by <c>HealthScoring:Storage:Provider</c>, its migrations and readiness.</summary>
    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        options.ConnectionString = builder.Configuration.GetConnectionString("HealthScoring") ?? StorageOptions.DefaultSqliteConnectionString;
        var services = builder.Services;
        services.AddSingleton(options);
        switch (options.Provider)
        {
            case StoreProvider.Sqlite:
                var sqlite = new SqliteStoreDataSource(options.ConnectionString, options.SqliteSynchronous, (int)options.SqliteBusyTimeout.TotalMilliseconds, options.SqliteCacheMiB, options.SqliteMmapMiB);
                if (Path.GetDirectoryName(Path.GetFullPath(sqlite.FilePath)) is { } folder)
                {
                    Directory.CreateDirectory(folder);
                }

                services.AddSingleton(sqlite);
                services.AddSingleton<DbDataSource>(sqlite);
                services.AddSingleton<SqliteUsageStore>();
                services.AddSingleton<IUsageStore>(sp => sp.GetRequiredService<SqliteUsageStore>());
                services.AddSingleton<IStoreSeed>(sp => sp.GetRequiredService<SqliteUsageStore>()); // keys loaded before ready
                break;
            case StoreProvider.SqlServer:
                var sqlServer = new SqlServerStoreDataSource(options.ConnectionString);
                services.AddSingleton(sqlServer);
                services.AddSingleton<DbDataSource>(sqlServer);
                services.AddSingleton<IUsageStore, SqlServerUsageStore>();
                break;
            default:
                throw new InvalidOperationException($"Unknown HealthScoring:Storage:Provider '{options.Provider}': use Sqlite or SqlServer.");
        }

        services.AddSingleton(new SqlDialect(options.Provider));
        services.AddSingleton<MigrationRunner>();
        services.AddSingleton<StoreReadiness>();
        services.AddSingleton<StoreProbe>();
        services.AddHostedService<StoreInitializer>();
        return builder;
    }
}
