using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;
using static HealthScoring.Service.Tests.Infrastructure.Usage;

namespace HealthScoring.Service.Tests.Backtests;

/// <summary>
/// Backtest and calibration over a real store, against a small book worked out by hand.
/// </summary>
/// <remarks>
/// Scorecard "bt" (segment bt-test) scores one measure, active days in the last 7 (linear 0..7; the other three
/// dimensions are N/A), so an account's score is 100 x active days / 7. Every account starts 120 days ago.
/// Three loyal accounts are active every day. Two fading accounts are active every day until 75 days ago and
/// churn 65 days ago. Period: 100..40 days ago, every 10 days, horizon 30.
/// <code>
/// evaluation day (days ago)  100   90   80   70   60   50   40
/// loyal (x3)                 100  100  100  100  100  100  100   never churned: 21 observations
/// fading (x2)                100  100  100   29    -    -    -   churned 65 days ago (observed up to 66)
/// churned within 30 days?     no  yes  yes  yes
/// </code>
/// Churners' risks (-score): 4 at -100, 2 at -29; stayers: 23 at -100. AUC = (2 x 23 + 4 x 23 x 0.5) / (6 x 23) = 2/3.
/// Bands: red = the two 29s (2 of 2 churned); green = 27 observations, 4 churned: lift (2/2) / (4/27) = 6.75.
/// Fading accounts' daily scores: 74 ago 6/7 green ... 71 ago 3/7 yellow, 70 ago 2/7 red until the churn: lead 5 days.
/// </remarks>
[TestFixture]
public sealed class BacktestApiTests : ServiceFixture
{
    private static readonly string[] Loyal = ["bt-loyal-1", "bt-loyal-2", "bt-loyal-3"];
    private static readonly string[] Fading = ["bt-fade-1", "bt-fade-2"];

    [OneTimeSetUp]
    public async Task BookAsync()
    {
        await PutScorecardAsync("bt", "bt-test", activeDaysFullAt: 7);
        foreach (var id in Loyal)
        {
            await PutAccountAsync(id, "bt-test");
            await SendDaysAsync(Grpc, id, Enumerable.Range(1, 120));
        }

        foreach (var id in Fading)
        {
            await PutAccountAsync(id, "bt-test");
            await SendDaysAsync(Grpc, id, Enumerable.Range(75, 46));
            await PutAccountAsync(id, "bt-test", churnedDaysAgo: 65);
        }

        await CalibrationBookAsync();

        // The stored path reads the daily snapshots: wait until the scorer has back-filled every account's history.
        foreach (var id in Loyal.Concat(Fading))
        {
            await WaitForAsync(Admin, $"/api/v1/accounts/{id}/health/history?from={Day(100)}&to={Day(40)}",
                h => h.GetArrayLength() == 61 && h.EnumerateArray().All(d => d.GetProperty("scorecard").Str("id") == "bt"));
        }
    }

    private static object Request(int from, int to, int horizon, int step, int? version = null, bool replay = false) =>
        new { from = Day(from), to = Day(to), horizonDays = horizon, stepDays = step, version, replay };

    /// <summary>The live scorecard's stored snapshots and a replay of it over the aggregates say the same.</summary>
    [TestCase(false, "stored")]
    [TestCase(true, "replayed")]
    public async Task Backtest_MatchesTheHandWorkedExample(bool replay, string scores)
    {
        using var response = await Admin.PostAsJsonAsync("/api/v1/scorecards/bt/backtest", Request(100, 40, 30, 10, replay: replay));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToString());

        var backtest = body;
        var bands = backtest.GetProperty("bands").EnumerateArray().ToDictionary(b => b.Str("band"));
        var measures = backtest.GetProperty("measures").EnumerateArray().ToDictionary(m => m.Str("key"));
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("scorecard").GetProperty("live").GetBoolean(), Is.True);
            Assert.That(body.GetProperty("scorecard").Str("scores"), Is.EqualTo(scores));
            Assert.That(body.GetProperty("period").Str("evaluatedTo"), Is.EqualTo(Day(40)));
            Assert.That(body.GetProperty("period").GetProperty("evaluationDays").GetInt32(), Is.EqualTo(7));
            Assert.That(backtest.GetProperty("auc").GetDouble(), Is.EqualTo(2 / 3d).Within(1e-9));
            Assert.That(backtest.GetProperty("accounts").GetInt32(), Is.EqualTo(5));
            Assert.That(backtest.GetProperty("observations").GetInt32(), Is.EqualTo(29));
            Assert.That(backtest.GetProperty("churnedObservations").GetInt32(), Is.EqualTo(6));
            Assert.That(backtest.GetProperty("churned").GetInt32(), Is.EqualTo(2));
            Assert.That((bands["red"].GetProperty("accounts").GetInt32(), bands["red"].GetProperty("observations").GetInt32(), bands["red"].GetProperty("churned").GetInt32()), Is.EqualTo((2, 2, 2)));
            Assert.That((bands["green"].GetProperty("accounts").GetInt32(), bands["green"].GetProperty("observations").GetInt32(), bands["green"].GetProperty("churned").GetInt32()), Is.EqualTo((5, 27, 4)));
            Assert.That(bands["red"].GetProperty("churnRate").GetDouble(), Is.EqualTo(1.0));
            Assert.That(backtest.GetProperty("liftRedOverGreen").GetDouble(), Is.EqualTo(6.75).Within(1e-9));
            Assert.That(backtest.GetProperty("medianLeadTimeDays").GetDouble(), Is.EqualTo(5));
            Assert.That(backtest.GetProperty("churnsWarnedByRed").GetInt32(), Is.EqualTo(2));
            Assert.That(measures["active_7"].GetProperty("auc").GetDouble(), Is.EqualTo(2 / 3d).Within(1e-9));
            Assert.That(measures["seats"].GetProperty("observations").GetInt32(), Is.Zero, "N/A throughout: no seats known");
            Assert.That(measures["seats"].GetProperty("auc").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public async Task Backtest_OfAnEarlierVersion_ReplaysThatVersion()
    {
        await PutScorecardAsync("bt-versions", "bt-test", activeDaysFullAt: 7, priority: -1);
        // Version 2: 2 active days of 7 already score 100, so the fading accounts' day 70 is green too: no signal.
        await PutScorecardAsync("bt-versions", "bt-test", activeDaysFullAt: 2, priority: -1);

        using var v1 = await Admin.PostAsJsonAsync("/api/v1/scorecards/bt-versions/backtest", Request(100, 40, 30, 10, version: 1));
        using var v2 = await Admin.PostAsJsonAsync("/api/v1/scorecards/bt-versions/backtest", Request(100, 40, 30, 10, replay: true));
        var first = await v1.Content.ReadFromJsonAsync<JsonElement>();
        var second = await v2.Content.ReadFromJsonAsync<JsonElement>();
        var versions = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/scorecards/bt-versions/versions");

        Assert.Multiple(() =>
        {
            Assert.That(first.GetProperty("scorecard").GetProperty("version").GetInt32(), Is.EqualTo(1));
            Assert.That(first.GetProperty("scorecard").GetProperty("live").GetBoolean(), Is.False);
            Assert.That(first.GetProperty("scorecard").Str("scores"), Is.EqualTo("replayed"), "an earlier version is always replayed");
            Assert.That(first.GetProperty("auc").GetDouble(), Is.EqualTo(2 / 3d).Within(1e-9));
            Assert.That(second.GetProperty("scorecard").GetProperty("live").GetBoolean(), Is.True);
            Assert.That(second.GetProperty("auc").GetDouble(), Is.EqualTo(0.5).Within(1e-9), "every observation scores 100");
            Assert.That(versions.GetArrayLength(), Is.EqualTo(2), "a backtest stores nothing");
        });
    }

    [TestCase("{\"to\": \"2026-01-01\"}", "from")]
    [TestCase("{\"from\": \"2026-01-02\", \"to\": \"2026-01-01\"}", "to")]
    [TestCase("{\"from\": \"2020-01-01\", \"to\": \"2023-01-01\"}", "to")]
    [TestCase("{\"from\": \"01/02/2026\", \"to\": \"2026-01-03\"}", "from")]
    [TestCase("{\"from\": \"2026-01-01\", \"to\": \"2026-01-03\", \"horizonDays\": 0}", "horizonDays")]
    [TestCase("{\"from\": \"2026-01-01\", \"to\": \"2026-01-03\", \"stepDays\": 1000}", "stepDays")]
    [TestCase("{\"from\": \"2026-01-01\", \"to\": \"2026-01-03\", \"horizon\": 30}", "horizon")]
    [TestCase("[1, 2]", "")]
    [TestCase("{\"from\": ", "")]
    public async Task BadRequests_SayWhichFieldAndWhy(string json, string field)
    {
        using var response = await Admin.PostAsync("/api/v1/scorecards/bt/backtest", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), problem.ToString());
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out var messages), Is.True, problem.ToString());
        Assert.That(messages[0].GetString(), Is.Not.Empty);
    }

    [Test]
    public async Task AHorizonNotYetPassed_IsRejected_AndUnknownScorecardsAre404()
    {
        using var recent = await Admin.PostAsJsonAsync("/api/v1/scorecards/bt/backtest", Request(5, 0, 30, 1));
        using var unknown = await Admin.PostAsJsonAsync("/api/v1/scorecards/nope/backtest", Request(100, 40, 30, 10));
        using var version = await Admin.PostAsJsonAsync("/api/v1/scorecards/bt/backtest", Request(100, 40, 30, 10, version: 99));
        var problem = await recent.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(() =>
        {
            Assert.That(recent.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").GetProperty("horizonDays")[0].GetString(), Does.Contain("not all passed"));
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(version.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    [Test]
    public async Task BacktestAndCalibrate_NeedTheAdminScope()
    {
        using var reader = Service.RestClient(await Admin.CreateKeyAsync("bt-reader", "read"));
        using var backtest = await reader.PostAsJsonAsync("/api/v1/scorecards/bt/backtest", Request(100, 40, 30, 10));
        using var calibrate = await reader.PostAsJsonAsync("/api/v1/scorecards/bt/calibrate", Request(100, 40, 30, 10));
        Assert.That((backtest.StatusCode, calibrate.StatusCode), Is.EqualTo((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden)));
    }

    [Test]
    public async Task OpenApiDocument_DescribesBothRoutes_WithTheirBodiesAndAnswers()
    {
        var document = await Admin.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = document.GetProperty("paths");
        var schemas = document.GetProperty("components").GetProperty("schemas");

        Assert.Multiple(() =>
        {
            foreach (var route in new[] { "/api/v1/scorecards/{id}/backtest", "/api/v1/scorecards/{id}/calibrate" })
            {
                Assert.That(paths.TryGetProperty(route, out var path), Is.True, route);
                Assert.That(path.GetProperty("post").GetProperty("requestBody").ToString(), Does.Contain("BacktestRequestBody"), route);
                Assert.That(path.GetProperty("post").GetProperty("responses").EnumerateObject().Select(r => r.Name), Is.SupersetOf(new[] { "200", "400", "404", "429" }), route);
            }

            Assert.That(schemas.GetProperty("BacktestRequestBody").GetProperty("properties").EnumerateObject().Select(p => p.Name),
                Is.SupersetOf(new[] { "from", "to", "horizonDays", "stepDays", "version", "replay" }));
            Assert.That(schemas.GetProperty("BacktestResponse").GetProperty("properties").EnumerateObject().Select(p => p.Name),
                Is.SupersetOf(new[] { "auc", "accounts", "churned", "bands", "medianLeadTimeDays", "measures" }));
            Assert.That(schemas.GetProperty("CalibrationResponse").GetProperty("properties").EnumerateObject().Select(p => p.Name),
                Is.SupersetOf(new[] { "proposed", "current", "proposedBacktest" }));
        });
    }

    // Calibration book (segment cal-test): 24 loyal accounts active every day, on 1 to 3 users; 24 fading accounts
    // whose last active day is 60 + i days ago and which churn 10 days later. Scorecard "cal" weighs events over
    // 60 days (slow to react) at 90 and active days over 7 (quick) at 10: the fit should move weight to the latter.
    private const int CalibrationAccounts = 24;

    private async Task CalibrationBookAsync()
    {
        await PutScorecardAsync("cal", "cal-test", activeDaysFullAt: 7, eventsWeight: 90);
        for (var i = 0; i < CalibrationAccounts; i++)
        {
            await PutAccountAsync($"cal-loyal-{i:00}", "cal-test");
            await SendDaysAsync(Grpc, $"cal-loyal-{i:00}", Enumerable.Range(1, 120).Where(d => (d + i) % 4 != 0));
            await PutAccountAsync($"cal-fade-{i:00}", "cal-test");
            await SendDaysAsync(Grpc, $"cal-fade-{i:00}", Enumerable.Range(60 + i, 61 - i));
            await PutAccountAsync($"cal-fade-{i:00}", "cal-test", churnedDaysAgo: 50 + i);
        }
    }

    [Test]
    public async Task Calibrate_ProposesAReadableScorecard_JudgedOnHeldOutAccounts_AndChangesNothing()
    {
        var before = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/scorecards/cal");

        using var response = await Admin.PostAsJsonAsync("/api/v1/scorecards/cal/calibrate", Request(110, 20, 14, 1));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToString());

        var proposed = body.GetProperty("proposed");
        var engagement = proposed.GetProperty("dimensions").EnumerateArray().Single(d => d.Str("key") == "engagement");
        var weights = engagement.GetProperty("measures").EnumerateArray().ToDictionary(m => m.Str("key"), m => m.GetProperty("weight").GetDouble());
        var split = body.GetProperty("split");
        var training = body.GetProperty("training");
        Assert.Multiple(() =>
        {
            Assert.That(weights["active_7"], Is.GreaterThan(10), "weight moves to the quick signal");
            Assert.That(weights.Values.Sum(), Is.EqualTo(100));
            Assert.That(training.GetProperty("proposedAuc").GetDouble(), Is.GreaterThan(training.GetProperty("currentAuc").GetDouble()));
            Assert.That(split.GetProperty("trainingAccounts").GetInt32() + split.GetProperty("holdOutAccounts").GetInt32(), Is.EqualTo(2 * CalibrationAccounts));
            Assert.That(split.GetProperty("holdOutAccounts").GetInt32(), Is.InRange(4, 28), "about 30% held out");
            Assert.That(body.GetProperty("current").GetProperty("accounts").GetInt32(), Is.EqualTo(split.GetProperty("holdOutAccounts").GetInt32()));
            Assert.That(body.GetProperty("proposedBacktest").GetProperty("accounts").GetInt32(), Is.EqualTo(split.GetProperty("holdOutAccounts").GetInt32()));
            Assert.That(body.Str("recommendation"), Is.AnyOf("adopt", "keep"));
            Assert.That(body.GetProperty("changes").EnumerateArray().Select(c => c.Str("path")),
                Is.SupersetOf(new[] { "dimensions[1].measures[0].weight" }).And.Not.Contains("dimensions[0].measures[0].weight"),
                "a lone measure's weight is not rewritten");
        });

        // Nothing changed until an admin PUTs the proposal, which is a valid scorecard as it stands.
        var unchanged = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/scorecards/cal");
        Assert.That(unchanged.GetProperty("version").GetInt32(), Is.EqualTo(before.GetProperty("version").GetInt32()));
        using var put = await Admin.PutAsJsonAsync("/api/v1/scorecards/cal", proposed);
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK), await put.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task Calibrate_WithoutChurnInThePeriod_SaysWhy()
    {
        using var response = await Admin.PostAsJsonAsync("/api/v1/scorecards/cal/calibrate", Request(118, 112, 5, 1));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That((int)response.StatusCode, Is.EqualTo(422), problem.ToString());
        Assert.That(problem.Str("detail"), Does.Contain("both churned and retained"));
    }

    private async Task PutScorecardAsync(string id, string segment, double activeDaysFullAt, double eventsWeight = 0, int priority = 0)
    {
        var engagement = new JsonArray
        {
            new JsonObject
            {
                ["key"] = "active_7", ["metric"] = "active_days", ["windowDays"] = 7, ["weight"] = 10,
                ["scoring"] = new JsonObject { ["type"] = "linear", ["zeroAt"] = 0, ["fullAt"] = activeDaysFullAt },
            },
        };
        if (eventsWeight > 0)
        {
            engagement.Add(new JsonObject
            {
                ["key"] = "events_60", ["metric"] = "event_count", ["windowDays"] = 60, ["weight"] = eventsWeight,
                ["scoring"] = new JsonObject { ["type"] = "linear", ["zeroAt"] = 0, ["fullAt"] = 60 },
            });
        }

        JsonObject Dimension(string key, JsonArray measures) => new() { ["key"] = key, ["weight"] = 25, ["measures"] = measures };
        JsonArray One(string key, string metric) =>
        [
            new JsonObject { ["key"] = key, ["metric"] = metric, ["weight"] = 1, ["scoring"] = new JsonObject { ["type"] = "linear", ["zeroAt"] = 0, ["fullAt"] = 1 } },
        ];
        var card = new JsonObject
        {
            ["name"] = $"Backtest test {id}",
            ["priority"] = priority,
            ["appliesTo"] = new JsonObject { ["segments"] = new JsonArray(segment) },
            ["dimensions"] = new JsonArray
            {
                Dimension("deployment", One("seats", "seat_utilisation")),
                Dimension("engagement", engagement),
                Dimension("adoption", One("breadth", "feature_breadth")),
                Dimension("roi", One("goals", "goal_attainment")),
            },
        };
        using var response = await Admin.PutAsJsonAsync($"/api/v1/scorecards/{id}", card);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    private async Task PutAccountAsync(string id, string segment, int? churnedDaysAgo = null)
    {
        var body = new JsonObject { ["segment"] = segment, ["contractStart"] = Day(120) };
        if (churnedDaysAgo is { } days)
        {
            body["status"] = "churned";
            body["churnedAt"] = $"{Day(days)}T12:00:00Z";
        }

        using var response = await Admin.PutAsJsonAsync($"/api/v1/accounts/{id}", body);
        Assert.That((int)response.StatusCode, Is.AnyOf(200, 201), await response.Content.ReadAsStringAsync());
    }
}
