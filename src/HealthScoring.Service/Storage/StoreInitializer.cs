namespace HealthScoring.Service.Storage;

/// <summary>
/// Migrates the store at start-up and seeds it (the first admin key, the default scorecard). When the store cannot be reached
/// the service still starts (reporting not-ready with the reason) and keeps trying in the background.
/// </summary>
internal sealed partial class StoreInitializer(
    MigrationRunner migrations,
    IEnumerable<IStoreSeed> seeds,
    StoreReadiness readiness,
    ILogger<StoreInitializer> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first attempt runs before the server takes calls, so a healthy store is ready from the first request.
        await TryInitializeAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!readiness.IsReady && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(RetryDelay, stoppingToken);
            await TryInitializeAsync(stoppingToken);
        }
    }

    private async Task TryInitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await migrations.RunAsync(cancellationToken);
            foreach (var seed in seeds)
            {
                await seed.EnsureAsync(cancellationToken);
            }

            readiness.MarkReady();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            readiness.MarkNotReady($"The store is not reachable or could not be migrated: {ex.Message}");
            LogInitFailed(logger, ex, RetryDelay.TotalSeconds);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Store initialisation failed; retrying every {Seconds} s")]
    private static partial void LogInitFailed(ILogger logger, Exception exception, double seconds);
}
