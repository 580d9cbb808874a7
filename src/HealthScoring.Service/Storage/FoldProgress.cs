using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Storage;

/// <summary>
/// Which accepted groups are folded into the aggregates yet, per account: lets a read of an account's usage wait
/// for the events acknowledged before it (read-your-writes), and only when that account has some pending.
/// Group ids only grow, and groups are folded in id order.
/// </summary>
internal sealed class FoldProgress
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _lastGroupOf = new(StringComparer.Ordinal);
    private TaskCompletionSource _nextFold = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _foldedThrough;
    private long _lastAccepted;
    private long _pendingFromBefore;

    /// <summary>Groups up to this id were pending when the store was opened (before a restart): every account waits for them.</summary>
    public void PendingFromBefore(long throughId)
    {
        lock (_lock)
        {
            _pendingFromBefore = Math.Max(_pendingFromBefore, throughId);
        }
    }

    public void Accepted(long groupId, IReadOnlyList<UsageEvent> events)
    {
        lock (_lock)
        {
            _lastAccepted = Math.Max(_lastAccepted, groupId);
            foreach (var e in events)
            {
                _lastGroupOf[e.AccountId] = groupId;
            }
        }
    }

    public void Folded(long throughId)
    {
        TaskCompletionSource folded;
        lock (_lock)
        {
            _foldedThrough = Math.Max(_foldedThrough, throughId);
            foreach (var (account, group) in _lastGroupOf)
            {
                if (group <= _foldedThrough)
                {
                    _lastGroupOf.Remove(account);
                }
            }

            folded = _nextFold;
            _nextFold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        folded.SetResult();
    }

    /// <summary>Completes when the account's accepted groups (null: every accepted group) are folded.</summary>
    public async Task WaitAsync(string? accountId, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next;
            lock (_lock)
            {
                var needed = Math.Max(_pendingFromBefore, accountId is null ? _lastAccepted : _lastGroupOf.GetValueOrDefault(accountId));
                if (needed <= _foldedThrough)
                {
                    return;
                }

                next = _nextFold.Task;
            }

            await next.WaitAsync(cancellationToken);
        }
    }
}
