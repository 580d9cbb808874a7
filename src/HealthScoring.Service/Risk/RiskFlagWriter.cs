using System.Data;
using System.Data.Common;
using System.Text.Json;
using Dapper;
using HealthScoring.Scoring.Risk;
using HealthScoring.Service.Health;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Webhooks;

namespace HealthScoring.Service.Risk;

/// <summary>
/// Stores the flags a scoring replay produced, inside the scorer's transaction: flags found again keep their row
/// (same id), flags the replay no longer finds are removed (their days were rescored away), new ones are inserted.
/// Raising and clearing on a recent day yield webhook events; back-filled history does not notify about the past.
/// </summary>
/// <remarks>One writer per save transaction: its insert and update stay prepared for every account of the round.</remarks>
internal sealed class RiskFlagWriter : IAsyncDisposable
{
    /// <summary>Flags raised or cleared on this many most recent days (today and yesterday) are announced by webhook.</summary>
    public const int NotifyWithinDays = 2;

    private static readonly (string, DbType)[] Columns =
    [
        ("Id", DbType.String), ("AccountId", DbType.String), ("Type", DbType.String), ("Severity", DbType.String),
        ("RaisedDay", DbType.Int64), ("RaisedAt", DbType.Int64), ("ClearedDay", DbType.Int64), ("ClearedAt", DbType.Int64),
        ("Reason", DbType.String), ("EvidenceJson", DbType.String), ("now", DbType.Int64),
    ];

    private const string InsertSql = """
        INSERT INTO risk_flags (id, account_id, type, severity, raised_day, raised_at, cleared_day, cleared_at, reason, evidence_json, updated_at)
        VALUES (@Id, @AccountId, @Type, @Severity, @RaisedDay, @RaisedAt, @ClearedDay, @ClearedAt, @Reason, @EvidenceJson, @now)
        """;

    private const string UpdateSql = """
        UPDATE risk_flags SET severity = @Severity, cleared_day = @ClearedDay, cleared_at = @ClearedAt, reason = @Reason,
                              evidence_json = @EvidenceJson, updated_at = @now
        WHERE id = @Id
        """;

    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private readonly PreparedCommand _insert;
    private readonly PreparedCommand _update;

    private RiskFlagWriter(DbConnection connection, DbTransaction transaction, PreparedCommand insert, PreparedCommand update) =>
        (_connection, _transaction, _insert, _update) = (connection, transaction, insert, update);

    /// <summary>A writer for the transaction; its statements are released with it (also when preparing the second fails).</summary>
    public static async Task<RiskFlagWriter> CreateAsync(DbConnection connection, DbTransaction transaction)
    {
        var insert = PreparedCommand.Create(connection, transaction, InsertSql, Columns);
        try
        {
            return new RiskFlagWriter(connection, transaction, insert, PreparedCommand.Create(connection, transaction, UpdateSql, Columns));
        }
        catch
        {
            await insert.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _insert.DisposeAsync();
        await _update.DisposeAsync();
    }

    /// <summary>
    /// What reconciling one account's flags writes: the rows to insert and to update, the ids to retract, the webhook
    /// events, and whether any flag appeared, disappeared or changed state. Pure: the scorer works it out in its parallel
    /// phase, and the save (the single writer) only runs the statements.
    /// </summary>
    public static FlagChanges Plan(ScoredAccount account, int today, long nowMs)
    {
        var accountId = account.Work.AccountId;
        var fromDay = UtcDay.FromDate(account.Days[0].AsOf);
        var stored = account.StoredFlags.ToDictionary(f => f.Id, StringComparer.Ordinal);
        var found = new HashSet<string>(StringComparer.Ordinal);
        var (inserts, updates, events) = (new List<StoredFlag>(), new List<StoredFlag>(), new List<OutboxEvent>());
        var changed = false;

        foreach (var episode in account.Flags)
        {
            var raisedDay = UtcDay.FromDate(episode.RaisedOn);
            int? clearedDay = episode.ClearedOn is { } c ? UtcDay.FromDate(c) : null;
            var id = StoredFlag.IdOf(accountId, episode.Type, raisedDay);
            found.Add(id);
            var before = stored.GetValueOrDefault(id);
            var clearedAt = clearedDay is null ? (long?)null
                : before?.ClearedDay == clearedDay ? before.ClearedAt : TimeOf(clearedDay.Value, today, nowMs);
            var flag = new StoredFlag
            {
                Id = id,
                AccountId = accountId,
                Type = episode.Type,
                Severity = episode.Severity,
                RaisedDay = raisedDay,
                RaisedAt = before?.RaisedAt ?? TimeOf(raisedDay, today, nowMs),
                ClearedDay = clearedDay,
                ClearedAt = clearedAt,
                Reason = Truncate(episode.Reason, 1000),
                EvidenceJson = JsonSerializer.Serialize(episode.Evidence),
            };

            if (before is null)
            {
                inserts.Add(flag);
                changed = true;
                if (raisedDay > today - NotifyWithinDays)
                {
                    events.Add(OutboxEvent.FlagRaised(flag));
                }
            }
            else if (before.Severity != flag.Severity || before.ClearedDay != clearedDay || before.Reason != flag.Reason || before.EvidenceJson != flag.EvidenceJson)
            {
                updates.Add(flag);
                changed |= before.ClearedDay != clearedDay;
            }

            if (clearedDay is { } cleared && before?.ClearedDay is null && cleared > today - NotifyWithinDays)
            {
                events.Add(OutboxEvent.FlagCleared(flag));
            }
        }

        // Flags raised on a recomputed day that the replay no longer finds: the history they came from changed.
        var retracted = stored.Values.Where(f => f.RaisedDay >= fromDay && !found.Contains(f.Id)).Select(f => f.Id).ToList();
        return new FlagChanges(inserts, updates, retracted, events, changed || retracted.Count > 0);
    }

    /// <summary>Runs the statements of <paramref name="changes"/> in the save's transaction and queues its events.</summary>
    public async Task ApplyAsync(FlagChanges changes, long nowMs, List<OutboxEvent> events, CancellationToken cancellationToken)
    {
        foreach (var flag in changes.Inserts)
        {
            await _insert.ExecuteAsync(cancellationToken, Values(flag, nowMs));
        }

        foreach (var flag in changes.Updates)
        {
            await _update.ExecuteAsync(cancellationToken, Values(flag, nowMs));
        }

        if (changes.Retracted.Count > 0)
        {
            await _connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM risk_flags WHERE id IN @retracted", new { retracted = changes.Retracted }, _transaction, cancellationToken: cancellationToken));
        }

        events.AddRange(changes.Events);
    }

    /// <summary>A flag's values in the order of <see cref="Columns"/>.</summary>
    private static object?[] Values(StoredFlag f, long now) =>
        [f.Id, f.AccountId, f.Type, f.Severity, f.RaisedDay, f.RaisedAt, f.ClearedDay, f.ClearedAt, f.Reason, f.EvidenceJson, now];

    /// <summary>Today's changes carry the time they were seen; a past day's carry the start of that day.</summary>
    private static long TimeOf(long day, int today, long nowMs) =>
        day >= today ? nowMs : new DateTimeOffset(UtcDay.ToDate((int)day), TimeOnly.MinValue, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];
}

/// <summary>The writes that reconcile one account's flags (<see cref="RiskFlagWriter.Plan"/>).</summary>
internal sealed record FlagChanges(
    IReadOnlyList<StoredFlag> Inserts, IReadOnlyList<StoredFlag> Updates, IReadOnlyList<string> Retracted, IReadOnlyList<OutboxEvent> Events, bool Changed);
