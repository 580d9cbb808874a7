using HealthScoring.Service.Hosting;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Ingestion;

/// <summary>
/// Folds acknowledged events into the aggregates scoring reads (<see cref="IUsageStore.FoldAsync"/>), as soon as
/// the writer commits and for as long as any are waiting. Under load each fold takes everything that arrived
/// during the previous one (up to <see cref="IngestionOptions.MaxEventsPerFold"/>), so folds grow with the
/// rate and each aggregate row is written once for many events. On a graceful stop it folds what is left; after
/// a crash the next start does.
/// </summary>
internal sealed partial class UsageFolder(
    IUsageStore store,
    StoreReadiness readiness,
    IngestionOptions options,
    ILogger<UsageFolder> logger) : BackgroundService
{
    private readonly SemaphoreSlim _committed = new(0, 1);

    /// <summary>Tells the folder that new events were committed.</summary>
    public void Nudge()
    {
        try
        {
            if (_committed.CurrentCount == 0)
            {
                _committed.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already nudged.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!readiness.IsReady)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                continue;
            }

            int folded;
            try
            {
                folded = await FoldOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFoldFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                continue;
            }

            if (folded == 0)
            {
                // Idle: wake on the next commit (or every few seconds, in case a nudge came before the fold's read).
                await _committed.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!readiness.IsReady)
        {
            return;
        }

        try
        {
            while (await FoldOnceAsync(cancellationToken) > 0)
            {
            }
        }
        catch (Exception ex)
        {
            // Nothing is lost: what is not folded now is folded at the next start.
            LogFoldAtStopFailed(logger, ex, store.UnfoldedEvents);
        }
    }

    private async Task<int> FoldOnceAsync(CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity("healthscoring.store.fold");
        var folded = await store.FoldAsync(options.MaxEventsPerFold, cancellationToken);
        activity?.SetTag("healthscoring.events", folded);
        return folded;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Folding accepted events into the usage aggregates failed; retrying (nothing is lost)")]
    private static partial void LogFoldFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Folding at shutdown stopped with {Events} events left; the next start folds them")]
    private static partial void LogFoldAtStopFailed(ILogger logger, Exception exception, long events);
}
