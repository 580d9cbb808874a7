using Google.Protobuf.WellKnownTypes;
using HealthScoring.Protos.V1;

namespace HealthScoring.Service.Tests.Infrastructure;

/// <summary>Builders of wire events and batches for tests.</summary>
internal static class Events
{
    public static UsageEvent One(string accountId, string eventId, string name = "login", string? userId = "u1",
        DateTimeOffset? at = null, double quantity = 0) => new()
    {
        AccountId = accountId,
        EventId = eventId,
        Name = name,
        UserId = userId ?? "",
        OccurredAt = Timestamp.FromDateTimeOffset(at ?? DateTimeOffset.UtcNow.AddMinutes(-1)),
        Quantity = quantity,
    };

    /// <summary>A batch of <paramref name="count"/> distinct events (ids prefix-0 ... prefix-(n-1)) over the given accounts.</summary>
    public static IngestRequest Batch(string prefix, int count, int accounts = 5, string accountPrefix = "acct")
    {
        var request = new IngestRequest();
        for (var i = 0; i < count; i++)
        {
            request.Events.Add(One($"{accountPrefix}-{i % accounts}", $"{prefix}-{i}", userId: $"u{i % 3}"));
        }

        return request;
    }
}
