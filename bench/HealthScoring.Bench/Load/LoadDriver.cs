using System.Diagnostics;
using HealthScoring.Bench.Workload;

namespace HealthScoring.Bench.Load;

/// <summary>
/// Closed-loop load: <see cref="BenchOptions.Concurrency"/> workers, each sending its next batch as soon
/// as the previous one is answered. Each send is a template copied into the worker's own buffer with fresh
/// ids (no serialization on the client). The window opens after the warm-up; the callbacks fire at its
/// edges so the caller can read CPU counters over exactly the same interval.
/// </summary>
internal sealed class LoadDriver(BatchPool pool, EventIds ids, BenchOptions options)
{
    private static readonly TimeSpan BackoffAfterFailure = TimeSpan.FromMilliseconds(20);

    public async Task<LoadResult> RunAsync(GrpcIngestClient client, Action onWindowStart, Action onWindowEnd, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + Ticks(options.WarmupSeconds);
        var windowEnd = windowStart + Ticks(options.Seconds);
        var workers = Enumerable.Range(0, options.Concurrency)
            .Select(w => Task.Run(() => WorkerAsync(client, w, windowStart, windowEnd, cancellationToken), cancellationToken))
            .ToArray();

        await DelayUntil(windowStart, cancellationToken);
        onWindowStart();
        await DelayUntil(windowEnd, cancellationToken);
        onWindowEnd();
        return WorkerTally.Merge(await Task.WhenAll(workers), options.Seconds);
    }

    private async Task<WorkerTally> WorkerAsync(GrpcIngestClient client, int worker, long windowStart, long windowEnd, CancellationToken cancellationToken)
    {
        var tally = new WorkerTally();
        var body = new byte[pool.MaxFrameLength];
        while (Stopwatch.GetTimestamp() < windowEnd)
        {
            var template = pool.Next();
            template.Stamp(body, ids.Reserve(template.EventCount));
            var sent = Stopwatch.GetTimestamp();
            var result = await client.IngestAsync(body, template.Length, worker, cancellationToken);
            var done = Stopwatch.GetTimestamp();
            tally.Record(result, template.EventCount, done >= windowStart && done <= windowEnd, done - sent);
            if (result.Status != 0)
            {
                await Task.Delay(BackoffAfterFailure, cancellationToken);
            }
        }

        return tally;
    }

    private static long Ticks(int seconds) => seconds * Stopwatch.Frequency;

    private static async Task DelayUntil(long timestamp, CancellationToken cancellationToken)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, cancellationToken);
        }
    }
}
