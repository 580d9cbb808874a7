using System.Text.Json;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Risk;

/// <summary>A risk flag as the REST API and the webhooks show it (CONTRACT "Risk").</summary>
internal sealed record RiskFlagView(
    string Id,
    string AccountId,
    string Type,
    string Severity,
    string State,
    DateOnly RaisedOn,
    DateTime RaisedAt,
    DateOnly? ClearedOn,
    DateTime? ClearedAt,
    string Reason,
    JsonElement Evidence)
{
    public static RiskFlagView From(StoredFlag f) => new(
        f.Id,
        f.AccountId,
        f.Type,
        f.Severity,
        f.ClearedDay is null ? "active" : "cleared",
        UtcDay.ToDate((int)f.RaisedDay),
        DateTimeOffset.FromUnixTimeMilliseconds(f.RaisedAt).UtcDateTime,
        f.ClearedDay is { } c ? UtcDay.ToDate((int)c) : null,
        f.ClearedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at).UtcDateTime : null,
        f.Reason,
        JsonDocument.Parse(f.EvidenceJson).RootElement.Clone());
}
