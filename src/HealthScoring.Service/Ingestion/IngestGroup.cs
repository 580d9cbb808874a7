namespace HealthScoring.Service.Ingestion;

/// <summary>How one submitted batch fared: stored now, or already seen.</summary>
internal readonly record struct BatchOutcome(int Accepted, int Duplicates);

/// <summary>
/// The batches committed together in one store transaction (a group commit). The store inserts the
/// <see cref="CandidateKeys"/> it has not seen, then <see cref="Resolve"/> turns the ones that were new
/// into the aggregate changes to apply and each batch's outcome. An event counts once: the first time
/// its key is new, in submission order; any later copy (in the same batch, another batch of the group,
/// or an earlier commit) is a duplicate.
/// </summary>
internal sealed class IngestGroup(IReadOnlyList<IReadOnlyList<UsageEvent>> batches)
{
    public IReadOnlyList<IReadOnlyList<UsageEvent>> Batches { get; } = batches;

    public int EventCount { get; } = batches.Sum(b => b.Count);

    /// <summary>Every distinct key of the group, in first-seen order.</summary>
    public IReadOnlyList<IdempotencyKey> CandidateKeys()
    {
        var seen = new HashSet<IdempotencyKey>(EventCount);
        var keys = new List<IdempotencyKey>(EventCount);
        foreach (var batch in Batches)
        {
            foreach (var e in batch)
            {
                if (seen.Add(e.Key))
                {
                    keys.Add(e.Key);
                }
            }
        }

        return keys;
    }

    public UsageDelta Resolve(IReadOnlySet<IdempotencyKey> newKeys, out BatchOutcome[] outcomes)
    {
        var delta = new UsageDelta();
        var claimed = new HashSet<IdempotencyKey>(newKeys.Count);
        outcomes = new BatchOutcome[Batches.Count];
        for (var i = 0; i < Batches.Count; i++)
        {
            var accepted = 0;
            foreach (var e in Batches[i])
            {
                if (newKeys.Contains(e.Key) && claimed.Add(e.Key))
                {
                    delta.Add(e);
                    accepted++;
                }
            }

            outcomes[i] = new BatchOutcome(accepted, Batches[i].Count - accepted);
        }

        return delta;
    }
}

/// <summary>
/// The aggregate changes of accepted events: per account, day and event name; per account, day and
/// user; per account. This is all scoring reads, so it never rescans raw events.
/// </summary>
internal sealed class UsageDelta
{
    public Dictionary<(string Account, int Day, string Name), (long Count, double Quantity)> Daily { get; } = [];

    public Dictionary<(string Account, int Day, string User), long> Users { get; } = [];

    public Dictionary<string, AccountDelta> Accounts { get; } = new(StringComparer.Ordinal);

    public void Add(UsageEvent e)
    {
        var day = e.Day;
        var dailyKey = (e.AccountId, day, e.Name);
        Daily[dailyKey] = Daily.TryGetValue(dailyKey, out var d) ? (d.Count + 1, d.Quantity + e.Quantity) : (1, e.Quantity);
        if (e.UserId is { } user)
        {
            var userKey = (e.AccountId, day, user);
            Users[userKey] = Users.GetValueOrDefault(userKey) + 1;
        }

        var at = e.OccurredAt.ToUnixTimeMilliseconds();
        Accounts[e.AccountId] = Accounts.TryGetValue(e.AccountId, out var a)
            ? new AccountDelta(Math.Min(a.FirstAt, at), Math.Max(a.LastAt, at), a.Count + 1, a.Quantity + e.Quantity, Math.Min(a.FirstDay, day))
            : new AccountDelta(at, at, 1, e.Quantity, day);
    }
}

/// <summary>Per-account change: event time range (Unix ms), counts, and the earliest day touched.</summary>
internal readonly record struct AccountDelta(long FirstAt, long LastAt, long Count, double Quantity, int FirstDay);
