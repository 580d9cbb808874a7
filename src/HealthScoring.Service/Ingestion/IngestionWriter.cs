using System.Threading.Channels;

using HealthScoring.Service.Hosting;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Ingestion;

/// <summary>The writer is holding as many events as it may: retry after the hint.</summary>
internal sealed class IngestionOverloadedException(TimeSpan retryAfter)
    : Exception($"The event store is behind ({retryAfter.TotalMilliseconds:0} ms retry hint); the batch was not stored.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The store failed or the service is stopping: nothing of the batch was stored; retry.</summary>
internal sealed class IngestionUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Group commit: request threads submit validated batches and wait; one loop takes every batch waiting
/// (up to <see cref="IngestionOptions.MaxEventsPerCommit"/>) and stores them in one transaction, so one
/// fsync serves many callers. A batch's task completes only after its commit: an acknowledgement always
/// means durable. The queue is bounded by events: beyond <see cref="IngestionOptions.MaxPendingEvents"/>
/// a submission fails at once with a retry hint instead of waiting without bound, and so does one while more than
/// <see cref="IngestionOptions.MaxUnfoldedEvents"/> acknowledged events wait for the <see cref="UsageFolder"/>.
/// </summary>
internal sealed partial class IngestionWriter(
    IUsageStore store,
    UsageFolder folder,
    StoreReadiness readiness,
    IngestionOptions options,
    TimeProvider clock,
    ILogger<IngestionWriter> logger) : BackgroundService
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private long _pendingEvents;

    public Task<BatchOutcome> SubmitAsync(IReadOnlyList<UsageEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return Task.FromResult(new BatchOutcome(0, 0));
        }

        if (Interlocked.Add(ref _pendingEvents, events.Count) > options.MaxPendingEvents
            || store.UnfoldedEvents > options.MaxUnfoldedEvents)
        {
            Interlocked.Add(ref _pendingEvents, -events.Count);
            throw new IngestionOverloadedException(options.RetryAfter);
        }

        var pending = new Pending(events);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Add(ref _pendingEvents, -events.Count);
            throw new IngestionUnavailableException("The service is shutting down; the batch was not stored. Retry against another instance or later.");
        }

        // The caller may stop waiting (deadline, disconnect); the batch is still written or failed as a whole.
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _queue.Reader;
        var group = new List<Pending>();
        try
        {
            while (await reader.WaitToReadAsync(CancellationToken.None))
            {
                var events = 0;
                while (events < options.MaxEventsPerCommit && reader.TryRead(out var next))
                {
                    group.Add(next);
                    events += next.Events.Count;
                }

                await CommitAsync(group, events);
                group.Clear();
            }
        }
        catch (Exception ex)
        {
            LogWriterStopped(logger, ex);
            throw;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Take no more batches, then let the loop write what was already submitted.
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    /// <summary>Events accepted for writing and not yet committed (the store's backlog).</summary>
    public long PendingEvents => Interlocked.Read(ref _pendingEvents);

    private async Task CommitAsync(List<Pending> group, int events)
    {
        using var activity = Telemetry.Source.StartActivity("healthscoring.store.write");
        activity?.SetTag("healthscoring.batches", group.Count);
        activity?.SetTag("healthscoring.events", events);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // A transient store error (busy, deadlock) is retried a few times: the group is one transaction, and
            // idempotency keys make a retry after an unseen commit count nothing twice.
            var batches = new IngestGroup(group.ConvertAll(p => p.Events));
            var outcomes = await StoreResilience.Retry.ExecuteAsync(async _ =>
            {
                var now = clock.GetUtcNow();
                return await store.WriteAsync(batches, UtcDay.Of(now), now.ToUnixTimeMilliseconds(), CancellationToken.None);
            });
            readiness.ReportWriteSucceeded();
            folder.Nudge();
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Completion.TrySetResult(outcomes[i]);
            }
        }
        catch (Exception ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            readiness.ReportWriteFailed($"Writes to the store are failing: {ex.Message}");
            LogCommitFailed(logger, ex, group.Count, events);
            var failure = new IngestionUnavailableException("The event store is unavailable; the batch was not stored. Retry later.", ex);
            foreach (var pending in group)
            {
                pending.Completion.TrySetException(failure);
            }
        }
        finally
        {
            Interlocked.Add(ref _pendingEvents, -events);
            Telemetry.StoreBatchDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private sealed class Pending(IReadOnlyList<UsageEvent> events)
    {
        public IReadOnlyList<UsageEvent> Events { get; } = events;

        public TaskCompletionSource<BatchOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Batches} batches ({Events} events) failed; the callers were told to retry")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int batches, int events);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The ingestion writer stopped")]
    private static partial void LogWriterStopped(ILogger logger, Exception exception);
}
