using HealthScoring.Service.Hosting;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Ingestion;

/// <summary>
/// Folds acknowledged events into the aggregates scoring reads (<see cref="IUsageStore.FoldAsync"/>). When the
/// writer goes quiet (no commit for <see cref="QuietGap"/>) it folds at once, so usage is fresh within
/// milliseconds at low rates. While commits keep coming it waits for <see cref="IngestionOptions.MinEventsPerFold"/>
/// events or <see cref="IngestionOptions.FoldDelay"/>: a fold holds SQLite's write lock, so a few large folds
/// (each aggregate row written once for many events) leave the acknowledgements more time than many small ones.
/// On a graceful stop it folds what is left; after a crash the next start does.
/// </summary>
internal sealed partial class UsageFolder(
    IUsageStore store,
    StoreReadiness readiness,
    IngestionOptions options,
    ILogger<UsageFolder> logger) : BackgroundService
{
    private readonly SemaphoreSlim _committed = new(0, 1);

    /// <summary>No commit for this long: the writer is idle, fold now.</summary>
    public static readonly TimeSpan QuietGap = TimeSpan.FromMilliseconds(20);

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
                await GatherAsync(stoppingToken);
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

    /// <summary>Returns once a fold is due: the writer went quiet, enough events wait, or the oldest waited long enough.</summary>
    private async Task GatherAsync(CancellationToken stoppingToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (store.UnfoldedEvents < options.MinEventsPerFold
               && System.Diagnostics.Stopwatch.GetElapsedTime(started) < options.FoldDelay
               && await _committed.WaitAsync(QuietGap, stoppingToken))
        {
        }
    }

    private async Task<int> FoldOnceAsync(CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity("healthscoring.store.fold");
        var folded = await store.FoldAsync(options.MaxEventsPerFold, cancellationToken);
        activity?.SetTag("healthscoring.events", folded);
        if (folded == 0 && activity is not null)
        {
            // Nothing was waiting (an idle wake-up): not worth a span in the traces.
            activity.ActivityTraceFlags &= ~System.Diagnostics.ActivityTraceFlags.Recorded;
        }

        return folded;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Folding accepted events into the usage aggregates failed; retrying (nothing is lost)")]
    private static partial void LogFoldFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Folding at shutdown stopped with {Events} events left; the next start folds them")]
    private static partial void LogFoldAtStopFailed(ILogger logger, Exception exception, long events);
}
