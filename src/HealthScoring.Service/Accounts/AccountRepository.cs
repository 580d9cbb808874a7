using System.Data.Common;
using Dapper;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Accounts;

/// <summary>Usage totals of an account, every accepted event counted exactly once.</summary>
internal sealed record AccountUsage(
    DateTimeOffset? FirstEventAt,
    DateTimeOffset? LastEventAt,
    long EventCount,
    double QuantityTotal,
    int ActiveUsers30d);

internal sealed record Account(string AccountId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, AccountUsage Usage);

/// <summary>Accounts and their usage (portable SQL: the same statements run on SQLite and SQL Server).</summary>
internal sealed class AccountRepository(DbDataSource db, TimeProvider clock)
{
    public async Task<Account?> GetAsync(string accountId, CancellationToken cancellationToken)
    {
        var today = UtcDay.Of(clock.GetUtcNow());
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            """
            SELECT a.account_id AS AccountId, a.created_at AS CreatedAt, a.updated_at AS UpdatedAt,
                   a.first_event_at AS FirstEventAt, a.last_event_at AS LastEventAt,
                   a.event_count AS EventCount, a.quantity_total AS QuantityTotal,
                   (SELECT COUNT(DISTINCT u.user_id) FROM active_users_daily u
                    WHERE u.account_id = a.account_id AND u.day >= @fromDay AND u.day <= @today) AS ActiveUsers30d
            FROM accounts a WHERE a.account_id = @accountId
            """,
            new { accountId, fromDay = today - 29, today }, cancellationToken: cancellationToken));
        return row is null ? null : new Account(
            row.AccountId,
            DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt),
            new AccountUsage(
                row.FirstEventAt is { } first ? DateTimeOffset.FromUnixTimeMilliseconds(first) : null,
                row.LastEventAt is { } last ? DateTimeOffset.FromUnixTimeMilliseconds(last) : null,
                row.EventCount,
                row.QuantityTotal,
                (int)row.ActiveUsers30d));
    }

    private sealed class Row
    {
        public string AccountId { get; init; } = "";
        public long CreatedAt { get; init; }
        public long UpdatedAt { get; init; }
        public long? FirstEventAt { get; init; }
        public long? LastEventAt { get; init; }
        public long EventCount { get; init; }
        public double QuantityTotal { get; init; }
        public long ActiveUsers30d { get; init; }
    }
}
