using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Health;

/// <summary>Events in over gRPC, scores out over REST: explanation, history, back-fill, scorecard changes, overrides.</summary>
[TestFixture]
public sealed class HealthApiTests : ServiceFixture
{
    private protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["HealthScoring:Scoring:PollInterval"] = "00:00:00.200",
    };

    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);

    [Test]
    public async Task EventsInOverGrpc_ScoreOutOverRest_WithExplanation()
    {
        await PutAccountAsync("h-e2e", """{"seatsPurchased":8,"contractStart":"2026-01-01"}""");
        await SendAsync("h-e2e", Enumerable.Range(0, 10).SelectMany(d => new[] { (d, "login", "ann"), (d, "report", d % 2 == 0 ? "bob" : "cy") }));

        var health = await WaitForHealthAsync("h-e2e", h => h.GetProperty("score").ValueKind == JsonValueKind.Number
            && Measure(h, "seat_utilisation").GetProperty("value").GetDouble() == 3 / 8d);

        Assert.Multiple(() =>
        {
            Assert.That(health.GetProperty("asOf").GetString(), Is.EqualTo(Today.ToString("yyyy-MM-dd")));
            Assert.That(health.GetProperty("score").GetInt32(), Is.InRange(0, 100));
            Assert.That(health.GetProperty("band").GetString(), Is.AnyOf("red", "yellow", "green"));
            Assert.That(health.GetProperty("scorecard").GetProperty("id").GetString(), Is.EqualTo("default"));
            Assert.That(health.GetProperty("dimensions").EnumerateArray().Select(d => d.GetProperty("key").GetString()),
                Is.EqualTo(new[] { "deployment", "engagement", "adoption", "roi" }));
            Assert.That(Measure(health, "seat_utilisation").GetProperty("explanation").GetString(), Is.EqualTo("3 of 8 seats active in the last 30 days"));
            Assert.That(Measure(health, "active_days").GetProperty("value").GetDouble(), Is.EqualTo(10));
            Assert.That(Measure(health, "goal_attainment").GetProperty("value").ValueKind, Is.EqualTo(JsonValueKind.Null), "no goals: N/A, not 0");
            Assert.That(Measure(health, "goal_attainment").GetProperty("effectiveWeight").GetDouble(), Is.Zero);
            Assert.That(Dimension(health, "roi").GetProperty("score").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(Dimension(health, "roi").GetProperty("weight").GetDouble(), Is.EqualTo(0.2));
            Assert.That(Dimension(health, "roi").GetProperty("effectiveWeight").GetDouble(), Is.Zero);
            Assert.That(health.GetProperty("drivers").GetArrayLength(), Is.InRange(1, 3));
            Assert.That(health.GetProperty("drivers")[0].GetProperty("explanation").GetString(), Is.Not.Empty);
        });
    }

    [Test]
    public async Task BackfilledEvents_RescoreThePastDaysTheyBelongTo()
    {
        await SendAsync("h-backfill", [(20, "login", "ann")]);
        var before = await WaitForHistoryAsync("h-backfill", 21);
        var scoreDay15Before = before.Single(h => h.GetProperty("date").GetString() == Day(15)).GetProperty("score").GetInt32();

        // Months-old telemetry arrives late: days 18 to 15 ago become active.
        await SendAsync("h-backfill", Enumerable.Range(15, 4).Select(d => (d, "login", "ann")));
        var after = await WaitForHistoryAsync("h-backfill", 21, h =>
            h.Single(e => e.GetProperty("date").GetString() == Day(15)).GetProperty("score").GetInt32() != scoreDay15Before);

        var day15 = after.Single(h => h.GetProperty("date").GetString() == Day(15));
        Assert.That(day15.GetProperty("score").GetInt32(), Is.GreaterThan(scoreDay15Before));
        Assert.That(after.Select(h => h.GetProperty("date").GetString()), Is.Ordered.And.Unique, "one snapshot per day");
        Assert.That(after.First().GetProperty("date").GetString(), Is.EqualTo(Day(20)));
        Assert.That(after.Last().GetProperty("date").GetString(), Is.EqualTo(Day(0)));

        using var asOf = await Admin.GetAsync($"/api/v1/accounts/h-backfill/health?asOf={Day(15)}");
        var pastHealth = await asOf.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(pastHealth.GetProperty("asOf").GetString(), Is.EqualTo(Day(15)));
        Assert.That(pastHealth.GetProperty("score").GetInt32(), Is.EqualTo(day15.GetProperty("score").GetInt32()), "asOf and history agree");
    }

    [Test]
    public async Task ScorecardChange_IsVersioned_AndRescoresTheAccountsItAppliesTo()
    {
        await PutAccountAsync("h-vip", """{"segment":"vip"}""");
        await SendAsync("h-vip", [(0, "login", "ann")]);
        var v1 = await PutScorecardAsync("vip", bandsGreenFrom: 99);
        Assert.That(v1.GetProperty("version").GetInt32(), Is.EqualTo(1));
        var first = await WaitForHealthAsync("h-vip", h => h.GetProperty("scorecard").GetProperty("id").GetString() == "vip");
        Assert.That(first.GetProperty("band").GetString(), Is.Not.EqualTo("green"));

        var v2 = await PutScorecardAsync("vip", bandsGreenFrom: 1);
        var second = await WaitForHealthAsync("h-vip", h => h.GetProperty("scorecard").GetProperty("version").GetInt32() == 2);

        Assert.That(v2.GetProperty("version").GetInt32(), Is.EqualTo(2));
        Assert.That(second.GetProperty("band").GetString(), Is.EqualTo("green"));
        var versions = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/scorecards/vip/versions");
        Assert.That(versions.GetArrayLength(), Is.EqualTo(2), "every change is kept");
        var old = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/scorecards/vip?version=1");
        Assert.That(old.GetProperty("bands").GetProperty("greenFrom").GetDouble(), Is.EqualTo(99));
    }

    [TestCase("""{"name":"x","dimensions":[]}""", "dimensions")]
    [TestCase("""{"name":"x","colour":"red","dimensions":[]}""", "colour")]
    [TestCase("""{"name":"x","dimensions":[{"key":"deployment","weight":1,"measures":[{"key":"a","metric":"vibes","scoring":{"type":"linear","zeroAt":0,"fullAt":1}}]},{"key":"engagement","weight":1,"measures":[{"key":"b","metric":"active_days","scoring":{"type":"linear","zeroAt":0,"fullAt":1}}]},{"key":"adoption","weight":1,"measures":[{"key":"c","metric":"active_days","scoring":{"type":"linear","zeroAt":0,"fullAt":1}}]},{"key":"roi","weight":1,"measures":[{"key":"d","metric":"active_days","scoring":{"type":"linear","zeroAt":3,"fullAt":3}}]}]}""", "dimensions[0].measures[0].metric")]
    public async Task PutScorecard_Invalid_Is400WithTheFieldPath(string json, string field)
    {
        using var response = await Admin.PutAsync("/api/v1/scorecards/broken", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").EnumerateObject().Select(p => p.Name), Does.Contain(field));
        using var get = await Admin.GetAsync("/api/v1/scorecards/broken");
        Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "nothing stored");
    }

    [Test]
    public async Task Override_IsShownBesideTheComputedScore_AndCanBeCleared()
    {
        await SendAsync("h-override", [(0, "login", "ann")]);
        var computed = await WaitForHealthAsync("h-override", h => h.GetProperty("score").ValueKind == JsonValueKind.Number);

        using var set = await Admin.PutAsJsonAsync("/api/v1/accounts/h-override/health/override",
            new { band = "red", reason = "Champion left last week", expiresAt = DateTimeOffset.UtcNow.AddDays(14) });
        var withOverride = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts/h-override/health");
        using var cleared = await Admin.DeleteAsync("/api/v1/accounts/h-override/health/override");
        var afterClear = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts/h-override/health");

        Assert.That(set.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(withOverride.GetProperty("score").GetInt32(), Is.EqualTo(computed.GetProperty("score").GetInt32()), "never replaces the computed score");
        Assert.That(withOverride.GetProperty("override").GetProperty("band").GetString(), Is.EqualTo("red"));
        Assert.That(withOverride.GetProperty("override").GetProperty("reason").GetString(), Is.EqualTo("Champion left last week"));
        Assert.That(cleared.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(afterClear.GetProperty("override").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [TestCase("""{"band":"red","expiresAt":"2099-01-01T00:00:00Z"}""", "reason")]
    [TestCase("""{"band":"red","reason":"x"}""", "expiresAt")]
    [TestCase("""{"band":"purple","reason":"x","expiresAt":"2099-01-01T00:00:00Z"}""", "band")]
    [TestCase("""{"reason":"x","expiresAt":"2099-01-01T00:00:00Z"}""", "score")]
    [TestCase("""{"score":101,"reason":"x","expiresAt":"2099-01-01T00:00:00Z"}""", "score")]
    public async Task Override_Invalid_Is400(string json, string field)
    {
        using var response = await Admin.PutAsync("/api/v1/accounts/h-e2e/health/override", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").EnumerateObject().Select(p => p.Name), Does.Contain(field));
    }

    [TestCase("tomorrow", "asOf")]
    [TestCase("2999-01-01", "asOf")]
    public async Task Health_BadAsOf_Is400(string asOf, string field)
    {
        using var response = await Admin.GetAsync($"/api/v1/accounts/h-e2e/health?asOf={asOf}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain(field));
    }

    [Test]
    public async Task Health_UnknownAccount_Is404()
    {
        using var response = await Admin.GetAsync("/api/v1/accounts/nobody-here/health");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Rescore_Is202AndCountsTheAccounts()
    {
        await SendAsync("h-rescore", [(0, "login", "ann")]);

        using var response = await Admin.PostAsJsonAsync("/api/v1/rescore", new { accountIds = new[] { "h-rescore", "missing" }, from = Today.AddDays(-5) });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(body.GetProperty("accounts").GetInt32(), Is.EqualTo(1));
    }

    private static string Day(int daysAgo) => Today.AddDays(-daysAgo).ToString("yyyy-MM-dd");

    private static JsonElement Dimension(JsonElement health, string key) =>
        health.GetProperty("dimensions").EnumerateArray().Single(d => d.GetProperty("key").GetString() == key);

    private static JsonElement Measure(JsonElement health, string key) =>
        health.GetProperty("dimensions").EnumerateArray().SelectMany(d => d.GetProperty("measures").EnumerateArray())
            .Single(m => m.GetProperty("key").GetString() == key);

    private async Task PutAccountAsync(string id, string json)
    {
        using var response = await Admin.PutAsync($"/api/v1/accounts/{id}", new StringContent(json, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    private async Task<JsonElement> PutScorecardAsync(string id, double bandsGreenFrom)
    {
        var card = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/scorecards/default");
        var node = System.Text.Json.Nodes.JsonNode.Parse(card.GetRawText())!.AsObject();
        node["id"] = id;
        node["name"] = "VIP";
        node["priority"] = 5;
        node["appliesTo"] = System.Text.Json.Nodes.JsonNode.Parse("""{"segments":["vip"]}""");
        node["bands"] = System.Text.Json.Nodes.JsonNode.Parse($$"""{"yellowFrom":{{bandsGreenFrom / 2}},"greenFrom":{{bandsGreenFrom}}}""");
        using var response = await Admin.PutAsync($"/api/v1/scorecards/{id}", new StringContent(node.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task SendAsync(string account, IEnumerable<(int DaysAgo, string Name, string User)> events)
    {
        var batch = new IngestRequest();
        var now = DateTimeOffset.UtcNow;
        foreach (var (daysAgo, name, user) in events)
        {
            var at = daysAgo == 0 ? now.AddSeconds(-1) : new DateTimeOffset(Today.AddDays(-daysAgo).ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
            batch.Events.Add(Events.One(account, Guid.NewGuid().ToString("N"), name, user, at));
        }

        var reply = await Grpc.CallAsync(GrpcTestClient.Ingest, batch);
        Assert.That(reply.Single(IngestResponse.Parser).Accepted, Is.EqualTo(batch.Events.Count), reply.Message);
    }

    private Task<JsonElement> WaitForHealthAsync(string account, Func<JsonElement, bool> until) =>
        Usage.WaitForAsync(Admin, $"/api/v1/accounts/{account}/health", until);

    private async Task<List<JsonElement>> WaitForHistoryAsync(string account, int days, Func<List<JsonElement>, bool>? until = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var last = new List<JsonElement>();
        while (DateTime.UtcNow < deadline)
        {
            last = (await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{account}/health/history?from={Day(days + 5)}")).EnumerateArray().ToList();
            if (last.Count >= days && (until is null || until(last)))
            {
                return last;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"history of {account} did not reach the expected state within 60 s; last: {string.Join(",", last)}");
        return last;
    }
}
