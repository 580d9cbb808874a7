using System.Text.Json;
using HealthScoring.Service.Health;
using HealthScoring.Service.Hosting;

namespace HealthScoring.Service.Tests.Health;

/// <summary>
/// The stored GET .../health document is written by a build-time generated serializer; the endpoint writes computed
/// responses with the REST options. Both must give the same bytes, whatever the values hold.
/// </summary>
public sealed class HealthDocumentJsonTests
{
    [Test]
    public void GeneratedSerializer_WritesTheSameBytesAsTheRestOptions()
    {
        var measures = new List<MeasureResponse>
        {
            new("seat_utilisation", "seat_utilisation", 0.1 + 0.2, 37.5, 0.6, 0.75, "12 of 50 seats active in the last 30 days; 'login' events, 3+ days"),
            new("nps", "nps", null, null, 0.4, 0, "No NPS answer <yet> & \"none\" in 'the' window: é, ü, 日本, emoji 🙂"),
            new("tiny", "goal_attainment", 1e-7, 100, double.Epsilon, 1.0 / 3, "\u0001 control\tcharacters\n"),
        };
        var response = new HealthResponse(
            "acct-ü/1", new DateOnly(2026, 11, 30), new DateTime(2026, 11, 30, 0, 0, 1, 123, DateTimeKind.Utc), 57, "yellow",
            new ScorecardRef("default", 3), new TrendResponse(-4, null),
            [new DimensionResponse("deployment", 41.25, 0.25, 0.3125, measures), new DimensionResponse("roi", null, 0.25, 0, [])],
            [new DriverResponse("seat_utilisation", 23.4375, "12 of 50 seats active in the last 30 days")],
            new OverrideResponse(80, "green", "Renewal signed", new DateTime(2027, 1, 1, 0, 0, 0, DateTimeKind.Utc), "csm@example.com",
                new DateTime(2026, 11, 29, 10, 0, 0, DateTimeKind.Utc)));

        // What the endpoints write with: ASP.NET Core's endpoint JSON options as the service configures them (RestApi).
        var endpoint = RestJson.Apply(new Microsoft.AspNetCore.Http.Json.JsonOptions().SerializerOptions);
        var stored = System.Text.Encoding.UTF8.GetString(HealthDocument.Render(response));
        var written = System.Text.Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(response, endpoint));

        Assert.That(stored, Is.EqualTo(written));
        Assert.That(System.Text.Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(response, RestJson.Options)), Is.EqualTo(written),
            "webhooks and the override splice write with RestJson.Options");
        Assert.That(stored, Does.Contain("\"effectiveWeight\":0.3125").And.Contain("\"override\":{").And.Contain("'login' events, 3+ days"));
    }
}
