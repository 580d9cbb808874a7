using System.Data.Common;
using Dapper;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Cohorts;

/// <summary>Reads what the cohort table needs: every account's start, churn, current health and MRR time series.</summary>
internal sealed class CohortRepository(DbDataSource db)
{
    /// <summary>How long CRM inputs are reused at most, whatever the version check says (bounds staleness from first-event moves).</summary>
    public static readonly TimeSpan MaxInputAge = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _reload = new(1, 1);
    private (CrmVersion Version, DateTimeOffset LoadedAt, List<AccountRow> Rows, Dictionary<string, List<MrrChange>> Changes)? _inputs;

    /// <summary>What says the CRM side changed: a new MRR/status change, a CRM upsert, a new account.</summary>
    private readonly record struct CrmVersion(long? ChangesMaxId, long Accounts, long? CrmUpdatedAt);

    /// <summary>
    /// Accounts (optionally of one segment and plan) with a known start, each with its MRR/status time series and
    /// current health. The CRM side (starts, MRR series, churn: two sequential scans on two connections at once,
    /// merged in memory) is kept while a cheap version check (indexed MAX/COUNT) sees no change, for at most
    /// <see cref="MaxInputAge"/>; the health side (score, band) is read on every call. At 100,000 accounts reading
    /// rows is nearly the whole cost: a join seeking the changes of each account measured 2-3x slower than the
    /// scans, and the scans 2x slower than the health read alone.
    /// </summary>
    public async Task<IReadOnlyList<CohortAccount>> LoadAsync(string? segment, string? plan, CancellationToken cancellationToken)
    {
        var (rows, changes) = await CrmInputsAsync(cancellationToken);
        var health = await ReadHealthAsync(cancellationToken);
        var accounts = new List<CohortAccount>(rows.Count);
        foreach (var r in rows)
        {
            if ((segment is not null && r.Segment != segment) || (plan is not null && r.Plan != plan))
            {
                continue;
            }

            var history = changes.GetValueOrDefault(r.AccountId) ?? [];
            var churnedAt = r.ChurnedAt ?? (r.Churned ? history.FindLast(c => c.Churned).At : null);
            var (score, band) = health.GetValueOrDefault(r.AccountId);
            accounts.Add(new CohortAccount(r.AccountId, r.Start, r.Mrr, churnedAt, score, band, history));
        }

        return accounts;
    }

    private async Task<(List<AccountRow> Rows, Dictionary<string, List<MrrChange>> Changes)> CrmInputsAsync(CancellationToken cancellationToken)
    {
        CrmVersion version;
        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        {
            var v = await connection.QuerySingleAsync<(long? ChangesMaxId, long Accounts, long? CrmUpdatedAt)>(new CommandDefinition(
                "SELECT (SELECT MAX(id) FROM account_changes), (SELECT COUNT(*) FROM accounts), (SELECT MAX(crm_updated_at) FROM accounts)",
                cancellationToken: cancellationToken));
            version = new CrmVersion(v.ChangesMaxId, v.Accounts, v.CrmUpdatedAt);
        }

        bool Fresh() => _inputs is { } cached && cached.Version == version && DateTimeOffset.UtcNow - cached.LoadedAt < MaxInputAge;
        if (!Fresh())
        {
            await _reload.WaitAsync(cancellationToken);
            try
            {
                if (!Fresh())
                {
                    // Task.Run: the SQLite provider completes "async" calls synchronously, so plain tasks would not overlap.
                    var changesTask = Task.Run(() => ReadChangesAsync(cancellationToken), cancellationToken);
                    var rowsTask = Task.Run(() => ReadAccountsAsync(cancellationToken), cancellationToken);
                    _inputs = (version, DateTimeOffset.UtcNow, await rowsTask, await changesTask);
                }
            }
            finally
            {
                _reload.Release();
            }
        }

        var inputs = _inputs!.Value;
        return (inputs.Rows, inputs.Changes);
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

    private async Task<Dictionary<string, List<MrrChange>>> ReadChangesAsync(CancellationToken cancellationToken)
    {
        var changes = new Dictionary<string, List<MrrChange>>(StringComparer.Ordinal);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            "SELECT account_id, changed_at, mrr, CASE WHEN status = 'churned' THEN 1 ELSE 0 END FROM account_changes ORDER BY account_id, changed_at",
            cancellationToken: cancellationToken));
        List<MrrChange>? list = null;
        string? account = null;
        while (reader.Read())
        {
            var id = reader.GetString(0);
            if (id != account)
            {
                account = id;
                changes[id] = list = [];
            }

            list!.Add(new MrrChange(reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetDouble(2), reader.GetInt32(3) == 1));
        }

        return changes;
    }

    private async Task<List<AccountRow>> ReadAccountsAsync(CancellationToken cancellationToken)
    {
        var rows = new List<AccountRow>();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            $"""
            SELECT account_id, contract_start, first_event_at, mrr, CASE WHEN status = 'churned' THEN 1 ELSE 0 END, churned_at, segment, plan_name
            FROM accounts WHERE contract_start IS NOT NULL OR first_event_at IS NOT NULL
            """, cancellationToken: cancellationToken));
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
