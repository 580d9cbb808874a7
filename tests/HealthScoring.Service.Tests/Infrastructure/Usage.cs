using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Protos.V1;

namespace HealthScoring.Service.Tests.Infrastructure;

/// <summary>Usage histories sent over gRPC, and waiting for what the scorer makes of them.</summary>
internal static class Usage
{
    public static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    public static string Day(int daysAgo) => Today.AddDays(-daysAgo).ToString("yyyy-MM-dd");

    /// <summary>One login per given day (noon UTC; a minute ago for today) by <paramref name="user"/>.</summary>
    public static async Task SendDaysAsync(GrpcTestClient grpc, string account, IEnumerable<int> daysAgo, string user = "ann")
    {
        var batch = new IngestRequest();
        var now = DateTimeOffset.UtcNow;
        foreach (var d in daysAgo)
        {
            var at = d == 0 ? now.AddMinutes(-1) : new DateTimeOffset(Today.AddDays(-d).ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
            batch.Events.Add(Events.One(account, Guid.NewGuid().ToString("N"), "login", user, at));
        }

        var reply = await grpc.CallAsync(GrpcTestClient.Ingest, batch);
        Assert.That(reply.Single(IngestResponse.Parser).Accepted, Is.EqualTo(batch.Events.Count), reply.Message);
    }

    /// <summary>Polls <paramref name="path"/> until <paramref name="until"/> holds of its JSON (60 s at most).</summary>
    public static async Task<JsonElement> WaitForAsync(HttpClient client, string path, Func<JsonElement, bool> until, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await client.GetAsync(path);
            if (response.IsSuccessStatusCode)
            {
                last = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (until(last))
                {
                    return last;
                }
            }

            await Task.Delay(100);
        }

        Assert.Fail($"{path} did not reach the expected state within {seconds} s; last: {last}");
        return last;
    }

    /// <summary>The items of a risk flag page.</summary>
    public static IReadOnlyList<JsonElement> Items(JsonElement page) => page.GetProperty("items").EnumerateArray().ToList();

    public static string Str(this JsonElement e, string name) => e.GetProperty(name).ValueKind == JsonValueKind.Null ? "" : e.GetProperty(name).ToString();
}
