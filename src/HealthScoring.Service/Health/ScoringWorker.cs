using HealthScoring.Scoring.Engine;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Health;

/// <summary>
/// Keeps scores fresh: every <see cref="ScoringOptions.PollInterval"/> it rescores accounts whose usage or
/// facts changed (back-filled days included), and, when the UTC day rolls over, every account (recency
/// changes without any new event). Work is claimed by a change counter, so a change that lands while an
/// account is being scored is never lost: the account stays due.
/// </summary>
internal sealed partial class ScoringWorker(
    HealthRepository health,
    AccountScorer scorer,
    StoreReadiness readiness,
    ScoringOptions options,
    TimeProvider clock,
    ILogger<ScoringWorker> logger) : BackgroundService
{
    /// <summary>Runs rounds until nothing is due (used by tests and benchmarks through the service too).</summary>
    public async Task<int> RunUntilIdleAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        int scored;
        while ((scored = await RunRoundAsync(cancellationToken)) > 0)
        {
            total += scored;
        }

        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PollInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!readiness.IsReady)
            {
                continue;
            }

            try
            {
                await RunUntilIdleAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRoundFailed(logger, ex);
            }
        }
    }

    private async Task<int> RunRoundAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var today = UtcDay.Of(now);
        var due = await health.DueAsync(today, today - options.HistoryDays, options.BatchSize, cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }

        var started = clock.GetTimestamp();
        var scored = await scorer.ScoreAsync(due, today, cancellationToken);
        var computed = clock.GetTimestamp();
        await health.SaveAsync(scored, now.ToUnixTimeMilliseconds(), cancellationToken);
        LogRound(logger, due.Count, scored.Sum(s => s.Days.Count), clock.GetElapsedTime(started, computed).TotalMilliseconds,
            clock.GetElapsedTime(computed).TotalMilliseconds);
        return due.Count;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Scored {Accounts} accounts ({Days} days): load and compute {ComputeMs:0} ms, save {SaveMs:0} ms")]
    private static partial void LogRound(ILogger logger, int accounts, int days, double computeMs, double saveMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "A scoring round failed; it will be retried")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
