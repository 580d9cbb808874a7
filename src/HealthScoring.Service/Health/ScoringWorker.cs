using HealthScoring.Scoring.Engine;
using HealthScoring.Service.Hosting;
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
    ScorerLease lease,
    StoreReadiness readiness,
    ScoringOptions options,
    TimeProvider clock,
    ILogger<ScoringWorker> logger) : BackgroundService
{
    /// <summary>Runs passes until one finds nothing due (benchmarks and tools; the service runs one pass per tick).</summary>
    public async Task<int> RunUntilIdleAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        int scored;
        while ((scored = await RunPassAsync(cancellationToken)) > 0)
        {
            total += scored;
        }

        return total;
    }

    /// <summary>
    /// One pass over the due accounts in key order, in rounds of <see cref="ScoringOptions.BatchSize"/>, each
    /// continuing after the last account of the one before. A round's save (one writer transaction) runs while the
    /// next round loads and computes; saves stay one at a time and in order, and the pass returns after the last.
    /// An account that becomes due again during the pass waits for the next pass: one pass per tick means a busy
    /// account is rescored once per <see cref="ScoringOptions.PollInterval"/>, however many events it receives.
    /// </summary>
    /// <summary>Seconds since the last pass finished (the scoring lag an operator watches); since start before the first.</summary>
    public double LagSeconds => clock.GetElapsedTime(Interlocked.Read(ref _lastPass)).TotalSeconds;

    private long _lastPass = TimeProvider.System.GetTimestamp();

    public async Task<int> RunPassAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        string? after = null;
        var saving = Task.CompletedTask;
        try
        {
            while (await ScoreRoundAsync(after, cancellationToken) is { } round)
            {
                await saving;
                // Task.Run: the SQLite provider's "async" calls complete synchronously, so the save would not overlap.
                saving = Task.Run(() => SaveRoundAsync(round, cancellationToken), cancellationToken);
                total += round.Scored.Count;
                after = round.Scored[^1].Work.AccountId;
            }

            await saving;
            Interlocked.Exchange(ref _lastPass, clock.GetTimestamp());
            return total;
        }
        finally
        {
            // On failure, never leave a save running behind the caller's back (its own error, if any, is secondary).
            await saving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
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
                // With several replicas on one SQL Server, one scores per tick; the others skip it.
                await using var held = await lease.TryAcquireAsync(stoppingToken);
                if (held is not null)
                {
                    await RunPassAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRoundFailed(logger, ex);
            }
        }
    }

    private sealed record Round(IReadOnlyList<ScoredAccount> Scored, DateTimeOffset Now, double PickMs, double ComputeMs);

    /// <summary>Picks and scores the next batch of due accounts after <paramref name="after"/>; null when none is due.</summary>
    private async Task<Round?> ScoreRoundAsync(string? after, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var today = UtcDay.Of(now);
        var picked = clock.GetTimestamp();
        var due = await health.DueAsync(today, today - options.HistoryDays, options.BatchSize, after, cancellationToken);
        if (due.Count == 0)
        {
            return null;
        }

        var started = clock.GetTimestamp();
        var scored = await scorer.ScoreAsync(due, today, cancellationToken, documentsAt: now);
        return new Round(scored, now, clock.GetElapsedTime(picked, started).TotalMilliseconds, clock.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task SaveRoundAsync(Round round, CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity("healthscoring.scoring.round");
        activity?.SetTag("healthscoring.accounts", round.Scored.Count);
        activity?.SetTag("healthscoring.days", round.Scored.Sum(s => s.Days.Count));
        activity?.SetTag("healthscoring.load_compute_ms", round.ComputeMs);
        var started = clock.GetTimestamp();
        await health.SaveAsync(round.Scored, round.Now.ToUnixTimeMilliseconds(), cancellationToken);
        Telemetry.AccountsScored.Add(round.Scored.Count);
        Telemetry.ScoringRoundDuration.Record(round.PickMs + round.ComputeMs + clock.GetElapsedTime(started).TotalMilliseconds);
        LogRound(logger, round.Scored.Count, round.Scored.Sum(s => s.Days.Count), round.PickMs, round.ComputeMs, clock.GetElapsedTime(started).TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Scored {Accounts} accounts ({Days} days): pick {PickMs:0} ms, load and compute {ComputeMs:0} ms, save {SaveMs:0} ms")]
    private static partial void LogRound(ILogger logger, int accounts, int days, double pickMs, double computeMs, double saveMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "A scoring round failed; it will be retried")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
