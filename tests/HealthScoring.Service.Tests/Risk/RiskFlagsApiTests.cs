using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Service.Tests.Infrastructure;
using static HealthScoring.Service.Tests.Infrastructure.Usage;

namespace HealthScoring.Service.Tests.Risk;

/// <summary>Events in over gRPC, flags out over REST: raised when an account goes quiet, cleared by new activity.</summary>
[TestFixture]
public sealed class RiskFlagsApiTests : ServiceFixture
{
    private protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["HealthScoring:Scoring:PollInterval"] = "00:00:00.200",
    };

    private static bool HasInactive(JsonElement page, string state) =>
        Items(page).Any(f => f.Str("type") == "inactive" && f.Str("state") == state);

    [Test]
    public async Task QuietAccount_RaisesInactive_NewActivityClearsIt()
    {
        await SendDaysAsync(Grpc, "r-quiet", [30, 25, 20]);

        var raised = await WaitForAsync(Admin, "/api/v1/accounts/r-quiet/risk-flags", p => HasInactive(p, "active"));
        var flag = Items(raised).Single(f => f.Str("type") == "inactive");
        Assert.Multiple(() =>
        {
            Assert.That(flag.Str("raisedOn"), Is.EqualTo(Day(6)), "raised on the 14th quiet day, not on the day it was computed");
            Assert.That(flag.Str("severity"), Is.EqualTo("high"));
            Assert.That(flag.Str("reason"), Is.EqualTo($"No activity for 20 days (last on {Day(20)})"));
            Assert.That(flag.GetProperty("evidence").GetProperty("daysSinceLastActivity").GetInt32(), Is.EqualTo(20));
            Assert.That(flag.GetProperty("clearedAt").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });

        await SendDaysAsync(Grpc, "r-quiet", [0]);

        var all = await WaitForAsync(Admin, "/api/v1/accounts/r-quiet/risk-flags?state=all", p => HasInactive(p, "cleared"));
        var inactive = Items(all).Where(f => f.Str("type") == "inactive").ToList();
        Assert.That(inactive, Has.Count.EqualTo(1), "one flag per condition, also after rescoring");
        Assert.That(inactive[0].Str("id"), Is.EqualTo(flag.Str("id")));
        Assert.That(inactive[0].Str("clearedOn"), Is.EqualTo(Day(0)));
        var active = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts/r-quiet/risk-flags");
        Assert.That(HasInactive(active, "active"), Is.False);
    }

    [Test]
    public async Task BackfilledHistory_RaisesAndClearsFlagsOnTheDaysTheyBelongTo()
    {
        await SendDaysAsync(Grpc, "r-backfill", [60, 40, 10, 9]);

        var all = await WaitForAsync(Admin, "/api/v1/accounts/r-backfill/risk-flags?state=all",
            p => Items(p).Count(f => f.Str("type") == "inactive" && f.Str("state") == "cleared") == 2);
        var episodes = Items(all).Where(f => f.Str("type") == "inactive").OrderBy(f => f.Str("raisedOn")).ToList();

        // Quiet 60 -> 40 days ago: raised on the 14th quiet day (46 ago), cleared by the activity 40 days ago; quiet
        // again 40 -> 10: raised 26 days ago, cleared 10 days ago. Two flags, each on the days it belongs to.
        Assert.That(episodes.Select(f => (f.Str("raisedOn"), f.Str("clearedOn"))),
            Is.EqualTo(new[] { (Day(46), Day(40)), (Day(26), Day(10)) }));
        Assert.That(episodes[0].Str("raisedAt"), Does.StartWith(Day(46) + "T00:00:00"), "a past day's flag is stamped with that day");
    }

    [Test]
    public async Task BookWideList_FiltersAndPagesWithoutGapsOrRepeats()
    {
        foreach (var i in Enumerable.Range(0, 5))
        {
            await SendDaysAsync(Grpc, $"r-page-{i}", [20 + i]);
        }

        await WaitForAsync(Admin, "/api/v1/risk-flags?type=inactive&limit=1000",
            p => Enumerable.Range(0, 5).All(i => Items(p).Any(f => f.Str("accountId") == $"r-page-{i}")));

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/risk-flags?type=inactive&severity=high&limit=2{(cursor is null ? "" : $"&cursor={cursor}")}");
            Assert.That(Items(page), Has.Count.LessThanOrEqualTo(2));
            Assert.That(Items(page).All(f => f.Str("type") == "inactive" && f.Str("severity") == "high" && f.Str("state") == "active"));
            seen.AddRange(Items(page).Select(f => f.Str("id")));
            cursor = page.Str("nextCursor") is { Length: > 0 } next ? next : null;
            pages++;
        }
        while (cursor is not null && pages < 100);

        var all = Items(await Admin.GetFromJsonAsync<JsonElement>("/api/v1/risk-flags?type=inactive&limit=1000")).Select(f => f.Str("id")).ToList();
        Assert.That(seen, Is.Unique);
        Assert.That(seen, Is.EquivalentTo(all));
        Assert.That(pages, Is.GreaterThanOrEqualTo(3));

        // r-page-i went quiet 20+i days ago: inactive since 6+i days ago.
        var since = Items(await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/risk-flags?type=inactive&raisedSince={Day(7)}&limit=1000"))
            .Select(f => f.Str("accountId")).Where(a => a.StartsWith("r-page-", StringComparison.Ordinal)).ToList();
        Assert.That(since, Is.EquivalentTo(new[] { "r-page-0", "r-page-1" }));
    }

    [Test]
    public async Task ARuleTurnedOffForASegmentsScorecard_RaisesNothingThere()
    {
        var card = System.Text.Json.Nodes.JsonNode.Parse((await Admin.GetFromJsonAsync<JsonElement>("/api/v1/scorecards/default")).GetRawText())!.AsObject();
        card["id"] = "quiet-ok";
        card["name"] = "Seasonal accounts";
        card["priority"] = 5;
        card["appliesTo"] = System.Text.Json.Nodes.JsonNode.Parse("""{"segments":["seasonal"]}""");
        card["riskRules"] = System.Text.Json.Nodes.JsonNode.Parse("""{"inactive":{"enabled":false},"health_red":{"threshold":101,"clearAt":101,"severity":"low"}}""");
        using (var put = await Admin.PutAsync("/api/v1/scorecards/quiet-ok", new StringContent(card.ToJsonString(), System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK), await put.Content.ReadAsStringAsync());
        }

        using (var account = await Admin.PutAsJsonAsync("/api/v1/accounts/r-seasonal", new { segment = "seasonal" }))
        {
            account.EnsureSuccessStatusCode();
        }

        await SendDaysAsync(Grpc, "r-seasonal", [30]);
        var flags = await WaitForAsync(Admin, "/api/v1/accounts/r-seasonal/risk-flags", p => Items(p).Any(f => f.Str("type") == "health_red"));
        Assert.That(Items(flags).Any(f => f.Str("type") == "inactive"), Is.False, "inactive is off for this scorecard's segment");
        Assert.That(Items(flags).Single(f => f.Str("type") == "health_red").Str("severity"), Is.EqualTo("low"), "the scorecard's own severity");

        card["riskRules"] = System.Text.Json.Nodes.JsonNode.Parse("""{"nope":{},"inactive":{"threshold":14,"clearAt":30}}""");
        using var bad = await Admin.PutAsync("/api/v1/scorecards/quiet-ok", new StringContent(card.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.That(errors.TryGetProperty("riskRules.nope", out _) && errors.TryGetProperty("riskRules.inactive.clearAt", out _), Is.True, errors.ToString());
    }

    [TestCase("type=nope", "type")]
    [TestCase("severity=urgent", "severity")]
    [TestCase("state=maybe", "state")]
    [TestCase("raisedSince=yesterday", "raisedSince")]
    [TestCase("cursor=%25%25", "cursor")]
    [TestCase("limit=0", "limit")]
    [TestCase("limit=1001", "limit")]
    public async Task BadFilters_AreRejectedWithTheFieldAndWhy(string query, string field)
    {
        using var response = await Admin.GetAsync($"/api/v1/risk-flags?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out var why), Is.True, problem.ToString());
        Assert.That(why[0].GetString(), Is.Not.Empty);
    }

    [Test]
    public async Task UnknownAccount_Is404_AndReadScopeIsRequired()
    {
        using var missing = await Admin.GetAsync("/api/v1/accounts/nobody-here/risk-flags");
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        using var anonymous = Service.RestClient(key: null);
        using var denied = await anonymous.GetAsync("/api/v1/risk-flags");
        Assert.That(denied.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }
}
