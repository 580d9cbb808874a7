using System.Text.Json;
using HealthScoring.Service.Hosting;
using HealthScoring.Service.Risk;

namespace HealthScoring.Service.Webhooks;

/// <summary>Something a webhook subscriber is told about: its type, the account, and the event's data as JSON.</summary>
internal sealed record OutboxEvent(string Type, string AccountId, string DataJson)
{
    public const string RiskFlagRaised = "risk_flag.raised";
    public const string RiskFlagCleared = "risk_flag.cleared";
    public const string HealthBandChanged = "health.band_changed";

    public static readonly IReadOnlyList<string> Types = [RiskFlagRaised, RiskFlagCleared, HealthBandChanged];

    public static OutboxEvent FlagRaised(StoredFlag flag) => new(RiskFlagRaised, flag.AccountId, Serialize(new { flag = RiskFlagView.From(flag) }));

    public static OutboxEvent FlagCleared(StoredFlag flag) => new(RiskFlagCleared, flag.AccountId, Serialize(new { flag = RiskFlagView.From(flag) }));

    public static OutboxEvent BandChanged(string accountId, string? previousBand, string? band, int? score, DateOnly asOf) =>
        new(HealthBandChanged, accountId, Serialize(new { accountId, previousBand, band, score, asOf }));

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, RestJson.Options);
}
