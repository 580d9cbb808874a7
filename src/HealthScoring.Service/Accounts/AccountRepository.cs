using System.Data.Common;
using System.Text.Json;
using Dapper;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Accounts;

/// <summary>Usage totals of an account, every accepted event counted exactly once.</summary>
internal sealed record AccountUsage(
    DateTimeOffset? FirstEventAt,
    DateTimeOffset? LastEventAt,
    long EventCount,
    double QuantityTotal,
    int ActiveUsers30d);

internal sealed record Account(string AccountId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, AccountCrm Crm, AccountUsage Usage, int? Score, string? Band);

/// <summary>Accounts: CRM facts, usage totals, MRR/seat history. Portable SQL, one dialect hint for the upsert lock.</summary>
internal sealed class AccountRepository(DbDataSource db, SqlDialect dialect, TimeProvider clock)
{
    private const string Columns = """
        a.account_id AS AccountId, a.created_at AS CreatedAt, a.updated_at AS UpdatedAt,
        a.first_event_at AS FirstEventAt, a.last_event_at AS LastEventAt, a.event_count AS EventCount,
        a.quantity_total AS QuantityTotal, a.name AS Name, a.segment AS Segment, a.plan_name AS PlanName,
        a.seats_purchased AS SeatsPurchased, a.mrr AS Mrr, a.currency AS Currency, a.contract_start AS ContractStart,
        a.renewal_date AS RenewalDate, a.status AS Status, a.churned_at AS ChurnedAt, a.champion_user_id AS ChampionUserId,
        a.goals_json AS GoalsJson, a.attributes_json AS AttributesJson, a.score AS Score, a.band AS Band
        """;

    public async Task<Account?> GetAsync(string accountId, CancellationToken cancellationToken)
    {
        var today = UtcDay.Of(clock.GetUtcNow());
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"""
            SELECT {Columns},
                   (SELECT COUNT(DISTINCT u.user_id) FROM active_users_daily u
                    WHERE u.account_id = a.account_id AND u.day >= @fromDay AND u.day <= @today) AS ActiveUsers30d
            FROM accounts a WHERE a.account_id = @accountId
            """,
            new { accountId, fromDay = today - 29, today }, cancellationToken: cancellationToken));
        return row?.ToAccount();
    }

    /// <summary>
    /// Creates or replaces the CRM facts of an account (its usage is kept), records MRR/seat/status changes,
    /// and asks for today's score to be recomputed. True when the account was created.
    /// </summary>
    public async Task<bool> UpsertAsync(string accountId, AccountCrm crm, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var today = UtcDay.Of(now);
        var values = new
        {
            accountId,
            name = crm.Name,
            segment = crm.Segment,
            plan = crm.Plan,
            seats = crm.SeatsPurchased,
            mrr = crm.Mrr,
            currency = crm.Currency,
            contractStart = crm.ContractStart is { } cs ? UtcDay.FromDate(cs) : (int?)null,
            renewalDate = crm.RenewalDate is { } rd ? UtcDay.FromDate(rd) : (int?)null,
            status = crm.Status,
            churnedAt = crm.Status == AccountStatus.Churned ? (crm.ChurnedAt ?? now).ToUnixTimeMilliseconds() : (long?)null,
            champion = crm.ChampionUserId,
            goals = crm.Goals.Count == 0 ? null : JsonSerializer.Serialize(crm.Goals, Json),
            attributes = crm.Attributes.Count == 0 ? null : JsonSerializer.Serialize(crm.Attributes, Json),
            now = nowMs,
            today,
        };

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await connection.QuerySingleOrDefaultAsync<CrmSnapshot>(new CommandDefinition(
            $"SELECT mrr AS Mrr, seats_purchased AS Seats, status AS Status FROM accounts {dialect.UpdateLock} WHERE account_id = @accountId",
            new { accountId }, transaction, cancellationToken: cancellationToken));

        // A state older than the latest one recorded only adds to the time series (a CRM back-filling history).
        var effective = (crm.EffectiveAt ?? now).ToUnixTimeMilliseconds();
        var latest = before is null ? null : await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MAX(changed_at) FROM account_changes WHERE account_id = @accountId", new { accountId }, transaction, cancellationToken: cancellationToken));
        var isCurrent = latest is null || effective >= latest;
        var history = new
        {
            accountId, values.mrr, values.seats, values.status, changedAt = effective,
            day = UtcDay.Of(DateTimeOffset.FromUnixTimeMilliseconds(effective)),
        };

        const string set = """
            name = @name, segment = @segment, plan_name = @plan, seats_purchased = @seats, mrr = @mrr,
            currency = @currency, contract_start = @contractStart, renewal_date = @renewalDate, status = @status,
            churned_at = @churnedAt, champion_user_id = @champion, goals_json = @goals, attributes_json = @attributes,
            crm_updated_at = @now, updated_at = @now, dirty_version = dirty_version + 1,
            usage_changed_from_day = CASE WHEN usage_changed_from_day IS NULL OR usage_changed_from_day > @today
                                          THEN @today ELSE usage_changed_from_day END
            """;
        if (before is null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO accounts (account_id, created_at, updated_at, event_count, quantity_total, usage_changed_from_day)
                VALUES (@accountId, @now, @now, 0, 0, @today)
                """, values, transaction, cancellationToken: cancellationToken));
        }

        if (isCurrent)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE accounts SET {set} WHERE account_id = @accountId", values, transaction, cancellationToken: cancellationToken));
        }

        if (!isCurrent || before is null || before.Mrr != crm.Mrr || before.Seats != crm.SeatsPurchased || before.Status != crm.Status)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO account_changes (account_id, changed_at, day, mrr, seats_purchased, status)
                VALUES (@accountId, @changedAt, @day, @mrr, @seats, @status)
                """, history, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return before is null;
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private sealed class CrmSnapshot
    {
        public double? Mrr { get; init; }
        public long? Seats { get; init; }
        public string Status { get; init; } = AccountStatus.Active;
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
        public string? Name { get; init; }
        public string? Segment { get; init; }
        public string? PlanName { get; init; }
        public long? SeatsPurchased { get; init; }
        public double? Mrr { get; init; }
        public string? Currency { get; init; }
        public long? ContractStart { get; init; }
        public long? RenewalDate { get; init; }
        public string Status { get; init; } = AccountStatus.Active;
        public long? ChurnedAt { get; init; }
        public string? ChampionUserId { get; init; }
        public string? GoalsJson { get; init; }
        public string? AttributesJson { get; init; }
        public long? Score { get; init; }
        public string? Band { get; init; }

        public Account ToAccount() => new(
            AccountId,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt),
            new AccountCrm
            {
                Name = Name,
                Segment = Segment,
                Plan = PlanName,
                SeatsPurchased = (int?)SeatsPurchased,
                Mrr = Mrr,
                Currency = Currency?.Trim(),
                ContractStart = ContractStart is { } cs ? UtcDay.ToDate((int)cs) : null,
                RenewalDate = RenewalDate is { } rd ? UtcDay.ToDate((int)rd) : null,
                Status = Status,
                ChurnedAt = ChurnedAt is { } ca ? DateTimeOffset.FromUnixTimeMilliseconds(ca) : null,
                ChampionUserId = ChampionUserId,
                Goals = GoalsJson is null ? [] : JsonSerializer.Deserialize<List<Goal>>(GoalsJson, Json) ?? [],
                Attributes = AttributesJson is null
                    ? new Dictionary<string, JsonElement>()
                    : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(AttributesJson, Json) ?? [],
            },
            new AccountUsage(
                FirstEventAt is { } first ? DateTimeOffset.FromUnixTimeMilliseconds(first) : null,
                LastEventAt is { } last ? DateTimeOffset.FromUnixTimeMilliseconds(last) : null,
                EventCount,
                QuantityTotal,
                (int)ActiveUsers30d),
            (int?)Score,
            Band);
    }
}
