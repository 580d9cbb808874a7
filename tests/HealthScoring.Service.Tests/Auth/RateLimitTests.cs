using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Auth;

/// <summary>Per-key rate limits on both ports, with small limits so the tests can cross them.</summary>
[TestFixture]
public sealed class RateLimitTests : ServiceFixture
{
    private protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["HealthScoring:RateLimits:RequestsPerSecond"] = "5",
        ["HealthScoring:RateLimits:RequestBurst"] = "10",
        ["HealthScoring:RateLimits:EventsPerSecond"] = "100",
        ["HealthScoring:RateLimits:EventBurst"] = "1000",
    };

    [Test]
    public async Task RestOverTheLimit_Gets429WithRetryAfter_OtherKeysAndHealthChecksDoNot()
    {
        using var created = await Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "busy", scopes = new[] { "read" } });
        var busyKey = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString();
        using var busy = Service.RestClient(busyKey);

        // 30 requests at once: far more than the burst of 10, whatever the machine's speed.
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => busy.GetAsync("/api/v1/risk-flags")));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.InRange(10, 25), "the burst passes, little more: " + string.Join(",", statuses));
        var limited = responses.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.That(limited, Is.Not.Null, string.Join(",", statuses));
        Assert.That(int.Parse(limited!.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), Is.InRange(1, 5));
        var problem = await limited.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("5 requests per second"));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        // Another key has its own bucket; health checks need no key and are not limited.
        using var created2 = await Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "calm", scopes = new[] { "read" } });
        using var calm = Service.RestClient((await created2.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        using var calmResponse = await calm.GetAsync("/api/v1/risk-flags");
        Assert.That(calmResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var anonymous = Service.RestClient(key: null);
        for (var i = 0; i < 20; i++)
        {
            using var health = await anonymous.GetAsync("/healthz");
            Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        // The bucket refills.
        await Task.Delay(1500);
        using var again = await busy.GetAsync("/api/v1/risk-flags");
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task IngestOverTheEventLimit_IsResourceExhaustedWithAHint_AndStoresNothingOfThatBatch()
    {
        var first = Events.Batch("rl-a", 1000, accounts: 1, accountPrefix: "rl-acct");
        var second = Events.Batch("rl-b", 1000, accounts: 1, accountPrefix: "rl-acct");

        var ok = await Grpc.CallAsync(GrpcTestClient.Ingest, first);
        Assert.That(ok.Status, Is.EqualTo(0), ok.Message);

        var refused = await Grpc.CallAsync(GrpcTestClient.Ingest, second);
        Assert.That(refused.Status, Is.EqualTo(8), "RESOURCE_EXHAUSTED");
        Assert.That(refused.Message, Does.Contain("100 events per second"));
        Assert.That(long.Parse(refused.Metadata["grpc-retry-pushback-ms"], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));

        var account = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts/rl-acct-0");
        Assert.That(account.GetProperty("usage").GetProperty("eventCount").GetInt64(), Is.EqualTo(1000), "nothing of the refused batch");
    }
}
