using System.Data.Common;
using Dapper;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Cohorts;

/// <summary>Reads what the cohort table needs: every account's start, churn, current health and MRR time series.</summary>
internal sealed class CohortRepository(DbDataSource db)
{
    /// <summary>
    /// How long the CRM inputs are refreshed incrementally before being read again in full (bounds how long a
    /// back-filled earlier first event of an account without a contract start can go unnoticed).
    /// </summary>
    public static readonly TimeSpan MaxInputAge = TimeSpan.FromMinutes(10);

    private readonly SemaphoreSlim _reload = new(1, 1);
    private CrmInputs? _inputs;

    /// <summary>What says the CRM side changed: a new MRR/status change, a CRM upsert, a new account (all indexed).</summary>
    private readonly record struct CrmVersion(long ChangesMaxId, long Accounts, long CreatedMax, long CrmUpdatedMax);

    /// <summary>The CRM side of every account, as of <see cref="Version"/>; never mutated once published (copy on refresh).</summary>
    private sealed record CrmInputs(CrmVersion Version, DateTimeOffset LoadedAt, Dictionary<string, AccountRow> Rows, Dictionary<string, List<MrrChange>> Changes);

    /// <summary>
    /// Accounts (optionally of one segment and plan) with a known start, each with its MRR/status time series and
    /// current health. The CRM side (starts, MRR series, churn) is read in full once (two sequential scans on two
    /// connections at once, merged in memory), then refreshed with only what an indexed version check says is new:
    /// changes after the last id, accounts upserted or created since. The health side (score, band) is read on every
    /// call. At 100,000 accounts reading rows is nearly the whole cost: a join seeking the changes of each account
    /// measured 2-3x slower than the scans, and the full read 2-3x slower than the health read alone.
    /// </summary>
    public async Task<IReadOnlyList<CohortAccount>> LoadAsync(string? segment, string? plan, CancellationToken cancellationToken)
    {
        var crm = await CrmInputsAsync(cancellationToken);
        var health = await ReadHealthAsync(cancellationToken);
        var accounts = new List<CohortAccount>(crm.Rows.Count);
        foreach (var r in crm.Rows.Values)
        {
            if ((segment is not null && r.Segment != segment) || (plan is not null && r.Plan != plan))
            {
                continue;
            }

            var history = crm.Changes.GetValueOrDefault(r.AccountId) ?? [];
            var churnedAt = r.ChurnedAt ?? (r.Churned ? history.FindLast(c => c.Churned).At : null);
            var (score, band) = health.GetValueOrDefault(r.AccountId);
            accounts.Add(new CohortAccount(r.AccountId, r.Start, r.Mrr, churnedAt, score, band, history));
        }

        return accounts;
    }

    private async Task<CrmInputs> CrmInputsAsync(CancellationToken cancellationToken)
    {
        var version = await VersionAsync(cancellationToken);
        if (_inputs is { } cached && cached.Version == version && DateTimeOffset.UtcNow - cached.LoadedAt < MaxInputAge)
        {
            return cached;
        }

        await _reload.WaitAsync(cancellationToken);
        try
        {
            version = await VersionAsync(cancellationToken);
            var current = _inputs;
            if (current is not null && current.Version == version && DateTimeOffset.UtcNow - current.LoadedAt < MaxInputAge)
            {
                return current;
            }

            if (current is null || DateTimeOffset.UtcNow - current.LoadedAt >= MaxInputAge)
            {
                // Task.Run: the SQLite provider completes "async" calls synchronously, so plain tasks would not overlap.
                var changesTask = Task.Run(() => ReadChangesAsync(null, cancellationToken), cancellationToken);
                var rowsTask = Task.Run(() => ReadAccountsAsync(null, cancellationToken), cancellationToken);
                var rows = (await rowsTask).ToDictionary(r => r.AccountId, StringComparer.Ordinal);
                _inputs = new CrmInputs(version, DateTimeOffset.UtcNow, rows, await changesTask);
                return _inputs;
            }

            _inputs = await RefreshAsync(current, version, cancellationToken);
            return _inputs;
        }
        finally
        {
            _reload.Release();
        }
    }

    /// <summary>
    /// A copy of <paramref name="current"/> with the changes recorded after its last id and the accounts upserted or
    /// created since its version (>=: rows stamped in the same millisecond are read again, which is harmless).
    /// </summary>
    private async Task<CrmInputs> RefreshAsync(CrmInputs current, CrmVersion version, CancellationToken cancellationToken)
    {
        var changes = new Dictionary<string, List<MrrChange>>(current.Changes, StringComparer.Ordinal);
        foreach (var (account, added) in await ReadChangesAsync(current.Version.ChangesMaxId, cancellationToken))
        {
            // New rows come in id order; a stable sort by time keeps same-time rows in the order they were recorded.
            changes[account] = [.. (changes.GetValueOrDefault(account) ?? []).Concat(added).OrderBy(c => c.At)];
        }

        var rows = new Dictionary<string, AccountRow>(current.Rows, StringComparer.Ordinal);
        foreach (var row in await ReadAccountsAsync(current.Version, cancellationToken))
        {
            rows[row.AccountId] = row;
        }

        return new CrmInputs(version, current.LoadedAt, rows, changes);
    }

    private async Task<CrmVersion> VersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // The count catches an account created in the same millisecond as the newest one already seen.
        var v = await connection.QuerySingleAsync<(long? ChangesMaxId, long Accounts, long? CreatedMax, long? CrmUpdatedMax)>(new CommandDefinition(
            "SELECT (SELECT MAX(id) FROM account_changes), (SELECT COUNT(*) FROM accounts), (SELECT MAX(created_at) FROM accounts), (SELECT MAX(crm_updated_at) FROM accounts)",
            cancellationToken: cancellationToken));
        return new CrmVersion(v.ChangesMaxId ?? 0, v.Accounts, v.CreatedMax ?? 0, v.CrmUpdatedMax ?? 0);
    }

    private async Task<Dictionary<string, (int? Score, string? Band)>> ReadHealthAsync(CancellationToken cancellationToken)
    {
        var health = new Dictionary<string, (int?, string?)>(StringComparer.Ordinal);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            "SELECT account_id, score, band FROM accounts WHERE score IS NOT NULL", cancellationToken: cancellationToken));
        while (reader.Read())
        {
            health[reader.GetString(0)] = (reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        }

        return health;
    }

    private sealed record AccountRow(string AccountId, DateOnly Start, double? Mrr, bool Churned, long? ChurnedAt, string? Segment, string? Plan);

    /// <summary>Every change (or those after id <paramref name="afterId"/>), grouped by account in time order.</summary>
    private async Task<Dictionary<string, List<MrrChange>>> ReadChangesAsync(long? afterId, CancellationToken cancellationToken)
    {
        var changes = new Dictionary<string, List<MrrChange>>(StringComparer.Ordinal);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            $"""
            SELECT account_id, changed_at, mrr, CASE WHEN status = 'churned' THEN 1 ELSE 0 END FROM account_changes
            {(afterId is null ? "ORDER BY account_id, changed_at" : "WHERE id > @afterId ORDER BY id")}
            """, new { afterId }, cancellationToken: cancellationToken));
        List<MrrChange>? list = null;
        string? account = null;
        while (reader.Read())
        {
            var id = reader.GetString(0);
            if (id != account)
            {
                account = id;
                list = changes.TryGetValue(id, out var existing) ? existing : changes[id] = [];
            }

            list!.Add(new MrrChange(reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetDouble(2), reader.GetInt32(3) == 1));
        }

        return changes;
    }

    /// <summary>Every account with a known start (or those upserted or created since <paramref name="since"/>).</summary>
    private async Task<List<AccountRow>> ReadAccountsAsync(CrmVersion? since, CancellationToken cancellationToken)
    {
        var rows = new List<AccountRow>();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            $"""
            SELECT account_id, contract_start, first_event_at, mrr, CASE WHEN status = 'churned' THEN 1 ELSE 0 END, churned_at, segment, plan_name
            FROM accounts WHERE (contract_start IS NOT NULL OR first_event_at IS NOT NULL)
            {(since is null ? "" : "AND crm_updated_at >= @CrmUpdatedMax")}
            {(since is null ? "" : """
                UNION ALL
                SELECT account_id, contract_start, first_event_at, mrr, CASE WHEN status = 'churned' THEN 1 ELSE 0 END, churned_at, segment, plan_name
                FROM accounts WHERE (contract_start IS NOT NULL OR first_event_at IS NOT NULL) AND created_at >= @CreatedMax
                """)}
            """, new { CrmUpdatedMax = since?.CrmUpdatedMax, CreatedMax = since?.CreatedMax }, cancellationToken: cancellationToken));
        while (reader.Read())
        {
            var start = !reader.IsDBNull(1)
                ? UtcDay.ToDate(reader.GetInt32(1))
                : UtcDay.ToDate(UtcDay.Of(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
            rows.Add(new AccountRow(
                reader.GetString(0), start, reader.IsDBNull(3) ? null : reader.GetDouble(3), reader.GetInt32(4) == 1,
                reader.IsDBNull(5) ? null : reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }

        return rows;
    }
}
