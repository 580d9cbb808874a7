using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HealthScoring.Scoring.Risk;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Risk;

/// <summary>A risk flag as stored (days are UTC day numbers, times Unix milliseconds).</summary>
internal sealed class StoredFlag
{
    public const string Columns =
        "id AS Id, account_id AS AccountId, type AS Type, severity AS Severity, raised_day AS RaisedDay, raised_at AS RaisedAt, " +
        "cleared_day AS ClearedDay, cleared_at AS ClearedAt, reason AS Reason, evidence_json AS EvidenceJson";

    public string Id { get; init; } = "";
    public string AccountId { get; init; } = "";
    public string Type { get; init; } = "";
    public string Severity { get; init; } = "";
    public long RaisedDay { get; init; }
    public long RaisedAt { get; init; }
    public long? ClearedDay { get; init; }
    public long? ClearedAt { get; init; }
    public string Reason { get; init; } = "";
    public string EvidenceJson { get; init; } = "{}";

    /// <summary>
    /// A flag's id: derived from what identifies it (account, rule, first day), so that rescoring the same history
    /// finds the same flag rather than raising a duplicate.
    /// </summary>
    public static string IdOf(string accountId, string type, int raisedDay)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{accountId}\n{type}\n{raisedDay}"), hash);
        return "rf_" + Convert.ToHexStringLower(hash[..12]);
    }

    /// <summary>The flag as the rule timeline sees it, to be continued (or cleared) by a replay.</summary>
    public RiskEpisode ToEpisode() => new(
        Type,
        Severity,
        UtcDay.ToDate((int)RaisedDay),
        ClearedDay is { } c ? UtcDay.ToDate((int)c) : null,
        Reason,
        JsonSerializer.Deserialize<Dictionary<string, object>>(EvidenceJson) ?? []);
}
