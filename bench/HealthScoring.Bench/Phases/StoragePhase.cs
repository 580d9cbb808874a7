using System.Diagnostics;
using HealthScoring.Bench.Load;
using HealthScoring.Bench.Processes;
using HealthScoring.Bench.Workload;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace HealthScoring.Bench.Phases;

/// <summary>
/// (c) The storage ceiling: the same events, as the service's validated records, written by the service's
/// <see cref="SqliteUsageStore"/> in <see cref="IngestGroup"/>s of about <see cref="BenchOptions.CommitEvents"/>
/// events, one writer, in this process, on a fresh file with the service's data source (same pragmas and
/// synchronous setting) and migrations. Building the groups is not timed; the store's WriteAsync (the
/// acknowledgement) and FoldAsync (the aggregates, every <see cref="IngestionOptions.MaxEventsPerFold"/> events,
/// and what is left at the end) are, so the rate is what SQLite and the store code absorb with nothing else in the way.
/// </summary>
internal static class StoragePhase
{
    private sealed record Tally(long WindowEvents, double WindowSeconds, Latencies Commits, long Written, long Accepted, CpuWindow Cpu, double AckSeconds);

    /// <summary>Events per fold: the service's default <see cref="IngestionOptions.MaxEventsPerFold"/>.</summary>
    private static readonly int FoldEvents = new IngestionOptions().MaxEventsPerFold;

    public static async Task<PhaseResult> RunAsync(BatchPool pool, EventIds ids, BenchOptions options, CancellationToken cancellationToken)
    {
        var data = RepositoryPaths.NewScratchDirectory("storage");
        var databasePath = Path.Combine(data, "healthscoring.db");
        var batchesPerCommit = Math.Max(1, options.CommitEvents / pool.BatchSize);
        Progress.Say($"storage: SqliteUsageStore, {batchesPerCommit} batches ({batchesPerCommit * pool.BatchSize:N0} events) per commit, " +
            $"synchronous={options.Synchronous}, {options.WarmupSeconds} s warm-up + {options.Seconds} s of store time, store {data}");
        try
        {
            var db = new SqliteStoreDataSource($"Data Source={databasePath}", options.Synchronous);
            await new MigrationRunner(db, new StorageOptions(), NullLogger<MigrationRunner>.Instance).RunAsync(cancellationToken);
            Tally tally;
            using (var store = new SqliteUsageStore(db))
            {
                tally = await WriteAsync(store, pool, ids, options, batchesPerCommit, cancellationToken);
            }

            SqliteConnection.ClearAllPools(); // close the writer's pooled connection, so the count below checkpoints the WAL
            var counts = StoreFiles.Count(databasePath);
            var passed = tally.Accepted == tally.Written && counts.EventKeys == tally.Written && counts.AccountEvents == tally.Written
                && counts.DailyEvents == tally.Written && counts.PendingEvents == 0;
            return new PhaseResult
            {
                Phase = Phase.Storage,
                Title = $"Storage ceiling: SqliteUsageStore alone, {batchesPerCommit * pool.BatchSize:N0} events/commit (synchronous={options.Synchronous.ToUpperInvariant()})",
                EventsPerSecond = tally.WindowEvents / tally.WindowSeconds,
                BatchesPerSecond = tally.Commits.Count / tally.WindowSeconds,
                P50Ms = tally.Commits.PercentileMs(50),
                P99Ms = tally.Commits.PercentileMs(99),
                MachineBusy = tally.Cpu.MachineBusy,
                OtherCores = tally.Cpu.OtherCores,
                DatabaseBytes = StoreFiles.Bytes(databasePath),
                Passed = passed,
                Checks =
                [
                    $"{tally.Commits.Count:N0} commits in the window ({tally.WindowSeconds:0.0} s of store time); store check ({(passed ? "passed" : "FAILED")}): " +
                    $"written {tally.Written:N0}, accepted {tally.Accepted:N0}, idempotency keys {counts.EventKeys:N0}, SUM(accounts.event_count) {counts.AccountEvents:N0}, " +
                    $"SUM(usage_daily.event_count) {counts.DailyEvents:N0}, left unfolded {counts.PendingEvents:N0}; of the window's store time, " +
                    $"{tally.AckSeconds:0.0} s acknowledging (= {tally.WindowEvents / Math.Max(tally.AckSeconds, 1e-9):N0} events/s) and the rest folding",
                ],
            };
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            StoreFiles.DeleteDirectory(data);
        }
    }

    /// <summary>Commits groups until warm-up + window of store time have passed; only the window is reported.</summary>
    private static async Task<Tally> WriteAsync(
        SqliteUsageStore store, BatchPool pool, EventIds ids, BenchOptions options, int batchesPerCommit, CancellationToken cancellationToken)
    {
        var warmupTicks = options.WarmupSeconds * Stopwatch.Frequency;
        var endTicks = warmupTicks + options.Seconds * Stopwatch.Frequency;
        long storeTicks = 0, windowTicks = 0, ackTicks = 0, windowEvents = 0, written = 0, accepted = 0;
        var commits = new Latencies();
        var cpu = new CpuWindow(serverPid: null);
        var measuring = false;
        while (storeTicks < endTicks)
        {
            if (!measuring && storeTicks >= warmupTicks)
            {
                measuring = true;
                cpu.Start();
            }

            cancellationToken.ThrowIfCancellationRequested();
            var group = new IngestGroup(Enumerable.Range(0, batchesPerCommit).Select(_ =>
            {
                var template = pool.Next();
                return (IReadOnlyList<UsageEvent>)template.Restamp(ids.Reserve(template.EventCount));
            }).ToList());

            var now = DateTimeOffset.UtcNow;
            var started = Stopwatch.GetTimestamp();
            var outcomes = await store.WriteAsync(group, UtcDay.Of(now), now.ToUnixTimeMilliseconds(), cancellationToken);
            var acked = Stopwatch.GetTimestamp();

            // As the service's folder does under load: fold once a fold's worth is waiting; its time is store time too.
            if (store.UnfoldedEvents >= FoldEvents)
            {
                await store.FoldAsync(FoldEvents, cancellationToken);
            }

            var elapsed = Stopwatch.GetTimestamp() - started;

            storeTicks += elapsed;
            written += group.EventCount;
            accepted += outcomes.Sum(o => o.Accepted);
            if (measuring)
            {
                ackTicks += acked - started;
                windowTicks += elapsed;
                windowEvents += group.EventCount;
                commits.Add(elapsed);
            }
        }

        // What is still pending is folded inside the window too: the rate covers acknowledging and folding every event.
        var tail = Stopwatch.GetTimestamp();
        while (await store.FoldAsync(FoldEvents, cancellationToken) > 0)
        {
        }

        windowTicks += Stopwatch.GetTimestamp() - tail;
        cpu.Stop();
        return new Tally(windowEvents, (double)windowTicks / Stopwatch.Frequency, commits, written, accepted, cpu, (double)ackTicks / Stopwatch.Frequency);
    }
}
