using System.Data.Common;
using Dapper;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Cohorts;

/// <summary>Reads what the cohort table needs: every account's start, churn, current health and MRR time series.</summary>
internal sealed class CohortRepository(DbDataSource db)
{
    /// <summary>
    /// Accounts (optionally of one segment and plan) with a known start. Two ordered reads with
    /// plain readers: for 100,000 accounts the rows, not the arithmetic, are the cost.
    /// </summary>
    public async Task<IReadOnlyList<CohortAccount>> LoadAsync(string? segment, string? plan, CancellationToken cancellationToken)
    {
        var filter = (segment is null ? "" : " AND a.segment = @segment") + (plan is null ? "" : " AND a.plan_name = @plan");
        var args = new { segment, plan };
        await using var connection = await db.OpenConnectionAsync(cancellationToken);

        var changes = new Dictionary<string, List<MrrChange>>(StringComparer.Ordinal);
        await using (var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            filter.Length == 0
                ? "SELECT account_id, changed_at, mrr, status FROM account_changes ORDER BY account_id, changed_at"
                : $"SELECT c.account_id, c.changed_at, c.mrr, c.status FROM account_changes c JOIN accounts a ON a.account_id = c.account_id WHERE 1 = 1{filter} ORDER BY c.account_id, c.changed_at",
            args, cancellationToken: cancellationToken)))
        {
            List<MrrChange>? list = null;
            string? account = null;
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetString(0);
                if (id != account)
                {
                    account = id;
                    changes[id] = list = [];
                }

                list!.Add(new MrrChange(reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetDouble(2), reader.GetString(3) == AccountStatus.Churned));
            }
        }

        var accounts = new List<CohortAccount>();
        await using (var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            $"""
            SELECT a.account_id, a.contract_start, a.first_event_at, a.mrr, a.status, a.churned_at, a.score, a.band
            FROM accounts a WHERE 1 = 1{filter}
            """, args, cancellationToken: cancellationToken)))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                DateOnly? start = !reader.IsDBNull(1) ? UtcDay.ToDate(reader.GetInt32(1))
                    : !reader.IsDBNull(2) ? UtcDay.ToDate(UtcDay.Of(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)))) : null;
                if (start is null)
                {
                    continue; // neither a contract start nor any event: no cohort yet
                }

                var id = reader.GetString(0);
                var history = changes.GetValueOrDefault(id) ?? [];
                long? churnedAt = !reader.IsDBNull(5) ? reader.GetInt64(5)
                    : reader.GetString(4) == AccountStatus.Churned ? history.LastOrDefault(c => c.Churned).At : null;
                accounts.Add(new CohortAccount(
                    id,
                    start.Value,
                    reader.IsDBNull(3) ? null : reader.GetDouble(3),
                    churnedAt,
                    reader.IsDBNull(6) ? null : reader.GetInt32(6),
                    reader.IsDBNull(7) ? null : reader.GetString(7),
                    history));
            }
        }

        return accounts;
    }
}
