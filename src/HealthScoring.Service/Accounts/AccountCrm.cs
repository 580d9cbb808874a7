using HealthScoring.Scoring.Metrics;

namespace HealthScoring.Service.Accounts;

internal static class AccountStatus
{
    public const string Active = "active";
    public const string Churned = "churned";
}

/// <summary>What the CRM says about an account (PUT replaces all of it; usage is never touched by a PUT).</summary>
internal sealed record AccountCrm
{
    public string? Name { get; init; }

    public string? Segment { get; init; }

    public string? Plan { get; init; }

    public int? SeatsPurchased { get; init; }

    public double? Mrr { get; init; }

    public string? Currency { get; init; }

    public DateOnly? ContractStart { get; init; }

    public DateOnly? RenewalDate { get; init; }

    public string Status { get; init; } = AccountStatus.Active;

    public DateTimeOffset? ChurnedAt { get; init; }

    public string? ChampionUserId { get; init; }

    public IReadOnlyList<Goal> Goals { get; init; } = [];

    public IReadOnlyDictionary<string, System.Text.Json.JsonElement> Attributes { get; init; } =
        new Dictionary<string, System.Text.Json.JsonElement>();

    /// <summary>
    /// When this state took effect (default: now). A CRM back-filling its history sends older states with their
    /// dates: they enter the MRR/seat/status time series; the current facts change only for the latest state.
    /// </summary>
    public DateTimeOffset? EffectiveAt { get; init; }
}
