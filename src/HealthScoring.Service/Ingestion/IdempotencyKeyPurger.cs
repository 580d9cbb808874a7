using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Ingestion;

/// <summary>Once an hour, forgets idempotency keys older than <see cref="IngestionOptions.IdempotencyDays"/>.</summary>
internal sealed partial class IdempotencyKeyPurger(
    IUsageStore store,
    StoreReadiness readiness,
    IngestionOptions options,
    TimeProvider clock,
    ILogger<IdempotencyKeyPurger> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        do
        {
            if (!readiness.IsReady)
            {
                continue;
            }

            try
            {
                // The key of an event received on day D is kept through day D + IdempotencyDays.
                var before = UtcDay.Of(clock.GetUtcNow()) - options.IdempotencyDays;
                var purged = await store.PurgeKeysAsync(before, stoppingToken);
                LogPurged(logger, purged, before);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPurgeFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} idempotency keys received before day {Day}")]
    private static partial void LogPurged(ILogger logger, int count, int day);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging idempotency keys failed; will retry")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
