using System.Data.Common;
using Dapper;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Webhooks;

/// <summary>A webhook subscription (the secret is never shown back).</summary>
internal sealed record Webhook(string Id, string Url, string Secret, IReadOnlyList<string> Events, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>One delivery of one event to one subscription, and where it stands.</summary>
internal sealed class Delivery
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    public const string Columns =
        "id AS Id, webhook_id AS WebhookId, event_type AS EventType, payload AS Payload, created_at AS CreatedAt, state AS State, " +
        "attempts AS Attempts, next_attempt_at AS NextAttemptAt, last_attempt_at AS LastAttemptAt, last_status AS LastStatus, " +
        "last_error AS LastError, delivered_at AS DeliveredAt";

    public string Id { get; init; } = "";
    public string WebhookId { get; init; } = "";
    public string EventType { get; init; } = "";
    public string Payload { get; init; } = "{}";
    public long CreatedAt { get; init; }
    public string State { get; init; } = Pending;
    public long Attempts { get; init; }
    public long? NextAttemptAt { get; init; }
    public long? LastAttemptAt { get; init; }
    public long? LastStatus { get; init; }
    public string? LastError { get; init; }
    public long? DeliveredAt { get; init; }
}

/// <summary>Subscriptions and the delivery outbox. Portable SQL; the dialect only for row limits.</summary>
internal sealed class WebhookRepository(DbDataSource db, SqlDialect dialect, TimeProvider clock)
{
    /// <summary>
    /// Writes one delivery per event and matching subscription, in the caller's transaction: the change and the
    /// promise to announce it commit together or not at all.
    /// </summary>
    public static async Task EnqueueAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<OutboxEvent> events, long nowMs, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }

        var subscriptions = (await connection.QueryAsync<(string Id, string Events)>(new CommandDefinition(
            "SELECT id, events FROM webhooks", transaction: transaction, cancellationToken: cancellationToken))).ToList();
        var rows = (
            from e in events
            from s in subscriptions
            where s.Events.Split(',').Contains(e.Type, StringComparer.Ordinal)
            select new { Id = NewDeliveryId(), WebhookId = s.Id, e.Type, Payload = e.DataJson, now = nowMs, State = Delivery.Pending }).ToList();
        if (rows.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, created_at, state, attempts, next_attempt_at)
                VALUES (@Id, @WebhookId, @Type, @Payload, @now, @State, 0, @now)
                """, rows, transaction, cancellationToken: cancellationToken));
        }
    }

    /// <summary>Time-ordered ids (UUID v7), so the delivery log pages in creation order.</summary>
    private static string NewDeliveryId() => "dl_" + Guid.CreateVersion7().ToString("N");

    public async Task<bool> PutAsync(string id, string url, string secret, IReadOnlyList<string> events, string by, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var args = new { id, url, secret, events = string.Join(',', events), now, by };
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE webhooks {dialect.UpdateLock} SET url = @url, secret = @secret, events = @events, updated_at = @now, updated_by = @by WHERE id = @id",
            args, transaction, cancellationToken: cancellationToken));
        if (updated == 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO webhooks (id, url, secret, events, created_at, updated_at, updated_by) VALUES (@id, @url, @secret, @events, @now, @now, @by)",
                args, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return updated == 0;
    }

    public async Task<Webhook?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync("WHERE id = @id", new { id }, cancellationToken)).SingleOrDefault();

    public Task<IReadOnlyList<Webhook>> ListAsync(CancellationToken cancellationToken) => QueryAsync("ORDER BY id", null, cancellationToken);

    /// <summary>Removes the subscription and its deliveries (pending ones are no longer wanted).</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM webhook_deliveries WHERE webhook_id = @id", new { id }, transaction, cancellationToken: cancellationToken));
        var deleted = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM webhooks WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return deleted > 0;
    }

    /// <summary>A subscription's deliveries, newest first, after the cursor (the last id of the previous page).</summary>
    public async Task<IReadOnlyList<Delivery>> DeliveriesAsync(string webhookId, string? state, string? before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Delivery>(new CommandDefinition(
            $"""
            SELECT {Delivery.Columns} FROM webhook_deliveries
            WHERE webhook_id = @webhookId {(state is null ? "" : "AND state = @state")} {(before is null ? "" : "AND id < @before")}
            ORDER BY id DESC
            {dialect.Limit("@limit")}
            """, new { webhookId, state, before, limit }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>
    /// Pending deliveries whose next attempt is due, oldest first, with their subscription, each claimed until
    /// <paramref name="leaseUntilMs"/> (its next attempt moved there by a conditional update): with several replicas
    /// one of them sends it; if that one dies mid-send, the lease runs out and another retries (at least once).
    /// </summary>
    public async Task<IReadOnlyList<(Delivery Delivery, Webhook Webhook)>> DueAsync(long nowMs, int limit, CancellationToken cancellationToken, long? leaseUntilMs = null)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var due = (await connection.QueryAsync<Delivery>(new CommandDefinition(
            $"""
            SELECT {Delivery.Columns} FROM webhook_deliveries
            WHERE state = @pending AND next_attempt_at <= @nowMs
            ORDER BY next_attempt_at, id
            {dialect.Limit("@limit")}
            """, new { pending = Delivery.Pending, nowMs, limit }, cancellationToken: cancellationToken))).ToList();
        if (due.Count == 0)
        {
            return [];
        }

        if (leaseUntilMs is { } lease)
        {
            var claimed = new List<Delivery>(due.Count);
            await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
            {
                foreach (var d in due)
                {
                    if (await connection.ExecuteAsync(new CommandDefinition(
                        "UPDATE webhook_deliveries SET next_attempt_at = @lease WHERE id = @Id AND state = @pending AND next_attempt_at = @NextAttemptAt",
                        new { lease, d.Id, pending = Delivery.Pending, d.NextAttemptAt }, transaction, cancellationToken: cancellationToken)) == 1)
                    {
                        claimed.Add(d);
                    }
                }

                await transaction.CommitAsync(cancellationToken);
            }

            due = claimed;
        }

        var hooks = (await QueryAsync("WHERE id IN @ids", new { ids = due.Select(d => d.WebhookId).Distinct().ToArray() }, cancellationToken))
            .ToDictionary(h => h.Id, StringComparer.Ordinal);
        return due.Where(d => hooks.ContainsKey(d.WebhookId)).Select(d => (d, hooks[d.WebhookId])).ToList();
    }

    /// <summary>Records an attempt: delivered, or failed with the next attempt (null: given up).</summary>
    public async Task RecordAttemptAsync(string id, bool delivered, int? status, string? error, long? nextAttemptAt, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = @now, last_status = @status, last_error = @error,
              state = @state, next_attempt_at = @nextAttemptAt, delivered_at = @deliveredAt
            WHERE id = @id
            """,
            new
            {
                id, now, status, error = error is { Length: > 1000 } ? error[..1000] : error,
                state = delivered ? Delivery.Delivered : nextAttemptAt is null ? Delivery.Failed : Delivery.Pending,
                nextAttemptAt = delivered ? null : nextAttemptAt, deliveredAt = delivered ? now : (long?)null,
            }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Moves a delivery that was not sent to a later time (its attempts do not change); one never attempted shows
    /// <paramref name="reason"/>, one that was keeps its last attempt's error.
    /// </summary>
    public async Task PostponeAsync(string id, long nextAttemptAt, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_deliveries SET next_attempt_at = @nextAttemptAt, last_error = CASE WHEN attempts = 0 THEN @reason ELSE last_error END WHERE id = @id",
            new { id, nextAttemptAt, reason }, cancellationToken: cancellationToken));
    }

    private async Task<IReadOnlyList<Webhook>> QueryAsync(string where, object? args, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(string Id, string Url, string Secret, string Events, long CreatedAt, long UpdatedAt)>(new CommandDefinition(
            $"SELECT id, url, secret, events, created_at, updated_at FROM webhooks {where}", args, cancellationToken: cancellationToken)))
            .Select(r => new Webhook(r.Id, r.Url, r.Secret, r.Events.Split(',', StringSplitOptions.RemoveEmptyEntries),
                DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(r.UpdatedAt)))
            .ToList();
    }
}
