namespace HealthScoring.Bench.Workload;

/// <summary>
/// What a B2B product sends: mostly logins and views, fewer exports and admin actions, a few events that
/// carry a quantity (minutes, API calls, records synced). Weights are relative frequencies.
/// </summary>
internal static class EventMix
{
    public sealed record Kind(string Name, int Weight, int MaxQuantity);

    public static IReadOnlyList<Kind> All { get; } =
    [
        new("login", 22, 0),
        new("page.view", 20, 0),
        new("dashboard.viewed", 10, 0),
        new("report.viewed", 8, 0),
        new("search.performed", 8, 0),
        new("record.created", 7, 0),
        new("record.updated", 7, 0),
        new("api.call", 6, 100),
        new("report.exported", 4, 0),
        new("session.minutes", 4, 90),
        new("integration.sync", 2, 5000),
        new("user.invited", 2, 0),
    ];

    /// <summary>A weighted pick among the first <paramref name="count"/> kinds.</summary>
    public static Kind Pick(Random random, int count)
    {
        var kinds = All.Take(count).ToArray();
        var roll = random.Next(kinds.Sum(k => k.Weight));
        foreach (var kind in kinds)
        {
            roll -= kind.Weight;
            if (roll < 0)
            {
                return kind;
            }
        }

        return kinds[^1];
    }
}
