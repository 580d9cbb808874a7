namespace HealthScoring.Service.Ingestion;

/// <summary>How one submitted batch fared: stored now, or already seen.</summary>
internal readonly record struct BatchOutcome(int Accepted, int Duplicates);

/// <summary>
/// The batches committed together in one store transaction (a group commit). <see cref="Accept"/> picks the events
/// whose key the store has not seen (SQLite: its in-memory key set, then the journal keeps them); SQL Server inserts
/// the <see cref="CandidateKeys"/> it has not seen, then <see cref="Resolve"/> turns the new ones into the aggregate
/// changes to apply. Either way an event counts once: the first time its key is new, in submission order; any later
/// copy (in the same batch, another batch of the group, or an earlier commit) is a duplicate.
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

    /// <summary>
    /// The events to count, in order, and each batch's outcome: an event counts when <paramref name="claim"/> returns
    /// true for its key, which it must do at most once per key (the first copy; later copies and keys seen before are
    /// duplicates).
    /// </summary>
    public List<UsageEvent> Accept(Func<IdempotencyKey, bool> claim, out BatchOutcome[] outcomes)
    {
        var accepted = new List<UsageEvent>(EventCount);
        outcomes = new BatchOutcome[Batches.Count];
        for (var i = 0; i < Batches.Count; i++)
        {
            var before = accepted.Count;
            foreach (var e in Batches[i])
            {
                if (claim(e.Key))
                {
                    accepted.Add(e);
                }
            }

            outcomes[i] = new BatchOutcome(accepted.Count - before, Batches[i].Count - (accepted.Count - before));
        }

        return accepted;
    }

    /// <summary>The aggregate changes of the events whose key is in <paramref name="newKeys"/> (see <see cref="Accept"/>).</summary>
    public UsageDelta Resolve(IReadOnlySet<IdempotencyKey> newKeys, out BatchOutcome[] outcomes)
    {
        var claimed = new HashSet<IdempotencyKey>(newKeys.Count);
        var delta = new UsageDelta();
        foreach (var e in Accept(key => newKeys.Contains(key) && claimed.Add(key), out outcomes))
        {
            delta.Add(e);
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

    public void Add(UsageEvent e) => Add(e.AccountId, e.Name, e.UserId, e.OccurredAt.ToUnixTimeMilliseconds(), e.Quantity);

    public void Add(string account, string name, string? user, long occurredAtMs, double quantity)
    {
        var day = UtcDay.OfMs(occurredAtMs);
        var dailyKey = (account, day, name);
        Daily[dailyKey] = Daily.TryGetValue(dailyKey, out var d) ? (d.Count + 1, d.Quantity + quantity) : (1, quantity);
        if (user is not null)
        {
            var userKey = (account, day, user);
            Users[userKey] = Users.GetValueOrDefault(userKey) + 1;
        }

        Accounts[account] = Accounts.TryGetValue(account, out var a)
            ? new AccountDelta(Math.Min(a.FirstAt, occurredAtMs), Math.Max(a.LastAt, occurredAtMs), a.Count + 1, a.Quantity + quantity, Math.Min(a.FirstDay, day))
            : new AccountDelta(occurredAtMs, occurredAtMs, 1, quantity, day);
    }
}

/// <summary>Per-account change: event time range (Unix ms), counts, and the earliest day touched.</summary>
internal readonly record struct AccountDelta(long FirstAt, long LastAt, long Count, double Quantity, int FirstDay);
