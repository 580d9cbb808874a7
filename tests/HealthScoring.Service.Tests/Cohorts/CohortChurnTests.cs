using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Service.Tests.Infrastructure;
using static HealthScoring.Service.Tests.Infrastructure.Usage;

namespace HealthScoring.Service.Tests.Cohorts;

/// <summary>
/// The cohort table against a small book worked out by hand (README "Cohorts" states the formulas), with the MRR
/// history sent by a CRM as dated states (<c>effectiveAt</c>).
/// </summary>
/// <remarks>
/// January 2025 cohort, starting MRR 400: A 100 (150 from Feb 10), B 100 (churned Mar 15), C 200 (100 from Feb 1).
/// February 2025 cohort: D 50.
/// <code>
///            end of Jan        end of Feb                       end of Mar
/// A          100               150                              150
/// B          100               100                              churned: 0
/// C          200               100                              100
/// logo       3/3 = 1           3/3 = 1                          2/3
/// GRR        400/400 = 1       (100+100+100)/400 = 0.75         (100+0+100)/400 = 0.5
/// NRR        400/400 = 1       (150+100+100)/400 = 0.875        (150+0+100)/400 = 0.625
/// </code>
/// Weighted over both cohorts (D stays at 50): offset 1 GRR (300+50)/450, NRR (350+50)/450; offset 2 logo 3/4,
/// GRR (200+50)/450, NRR (250+50)/450.
/// </remarks>
[TestFixture]
public sealed class CohortChurnTests : ServiceFixture
{
    private protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["HealthScoring:Scoring:PollInterval"] = "00:00:00.200",
    };

    [OneTimeSetUp]
    public async Task BookAsync()
    {
        await PutAsync("c-a", "2025-01-05", new { mrr = 100 }, "2025-01-05T09:00:00Z");
        await PutAsync("c-a", "2025-01-05", new { mrr = 150 }, "2025-02-10T09:00:00Z");
        await PutAsync("c-b", "2025-01-20", new { mrr = 100 }, "2025-01-20T09:00:00Z");
        await PutAsync("c-b", "2025-01-20", new { mrr = 100, status = "churned", churnedAt = "2025-03-15T09:00:00Z" }, "2025-03-15T09:00:00Z");
        await PutAsync("c-c", "2025-01-25", new { mrr = 200 }, "2025-01-25T09:00:00Z");
        await PutAsync("c-c", "2025-01-25", new { mrr = 100 }, "2025-02-01T00:00:00Z");
        await PutAsync("c-d", "2025-02-03", new { mrr = 50 }, "2025-02-03T09:00:00Z");
        await SendDaysAsync(Grpc, "c-a", [0]);
        await WaitForAsync(Admin, "/api/v1/accounts/c-a", a => a.GetProperty("score").ValueKind == JsonValueKind.Number);
    }

    private async Task PutAsync(string id, string contractStart, object money, string effectiveAt)
    {
        var body = JsonSerializer.SerializeToNode(money)!.AsObject();
        body["segment"] = "cohort-test";
        body["contractStart"] = contractStart;
        body["effectiveAt"] = effectiveAt;
        using var response = await Admin.PutAsJsonAsync($"/api/v1/accounts/{id}", body);
        Assert.That((int)response.StatusCode, Is.AnyOf(200, 201), await response.Content.ReadAsStringAsync());
    }

    private static JsonElement Period(JsonElement cohort, int offset) => cohort.GetProperty("periods")[offset];

    private static double D(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    [Test]
    public async Task MonthlyCohorts_MatchTheHandWorkedExample()
    {
        var table = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?interval=month&segment=cohort-test");
        var cohorts = table.GetProperty("cohorts").EnumerateArray().ToList();
        Assert.That(cohorts.Select(c => c.Str("cohort")), Is.EqualTo(new[] { "2025-01", "2025-02" }));

        var jan = cohorts[0];
        Assert.Multiple(() =>
        {
            Assert.That(jan.GetProperty("accounts").GetInt32(), Is.EqualTo(3));
            Assert.That(D(jan, "startingMrr"), Is.EqualTo(400));
            Assert.That((Period(jan, 0).GetProperty("retainedAccounts").GetInt32(), D(Period(jan, 0), "logoRetention"), D(Period(jan, 0), "grossRevenueRetention"), D(Period(jan, 0), "netRevenueRetention")),
                Is.EqualTo((3, 1.0, 1.0, 1.0)));
            Assert.That((Period(jan, 1).GetProperty("retainedAccounts").GetInt32(), D(Period(jan, 1), "logoRetention"), D(Period(jan, 1), "grossRevenueRetention"), D(Period(jan, 1), "netRevenueRetention")),
                Is.EqualTo((3, 1.0, 0.75, 0.875)));
            Assert.That(Period(jan, 2).GetProperty("retainedAccounts").GetInt32(), Is.EqualTo(2));
            Assert.That(D(Period(jan, 2), "logoRetention"), Is.EqualTo(2 / 3d).Within(1e-9));
            Assert.That((D(Period(jan, 2), "grossRevenueRetention"), D(Period(jan, 2), "netRevenueRetention")), Is.EqualTo((0.5, 0.625)));
            Assert.That(Period(jan, 2).Str("end"), Is.EqualTo("2025-04-01"));

            // Every period up to the current one; only the current one is incomplete.
            var periods = jan.GetProperty("periods").EnumerateArray().ToList();
            var currentEnd = new DateOnly(Today.Year, Today.Month, 1).AddMonths(1);
            Assert.That(periods[^1].Str("end"), Is.EqualTo(currentEnd.ToString("yyyy-MM-dd")));
            Assert.That(periods[^1].GetProperty("complete").GetBoolean(), Is.False);
            Assert.That(periods.SkipLast(1).All(p => p.GetProperty("complete").GetBoolean()));

            // The leading signal: current health of the cohort's live accounts (A is scored; B churned; C has no usage).
            Assert.That(jan.GetProperty("health").GetProperty("scored").GetInt32(), Is.EqualTo(1));
            Assert.That(jan.GetProperty("health").GetProperty("averageScore").ValueKind, Is.EqualTo(JsonValueKind.Number));

            var feb = cohorts[1];
            Assert.That(D(feb, "startingMrr"), Is.EqualTo(50));
        });
    }

    [Test]
    public async Task WeightedAverage_IsOverCompletePeriods_WeightedBySizeAndRevenue()
    {
        var table = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?segment=cohort-test");
        var weighted = table.GetProperty("weightedAverage").EnumerateArray().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(weighted[1].GetProperty("cohorts").GetInt32(), Is.EqualTo(2));
            Assert.That(D(weighted[1], "logoRetention"), Is.EqualTo(1.0));
            Assert.That(D(weighted[1], "grossRevenueRetention"), Is.EqualTo(350 / 450d).Within(1e-9));
            Assert.That(D(weighted[1], "netRevenueRetention"), Is.EqualTo(400 / 450d).Within(1e-9));
            Assert.That(D(weighted[2], "logoRetention"), Is.EqualTo(0.75));
            Assert.That(D(weighted[2], "grossRevenueRetention"), Is.EqualTo(250 / 450d).Within(1e-9));
            Assert.That(D(weighted[2], "netRevenueRetention"), Is.EqualTo(300 / 450d).Within(1e-9));
        });
    }

    [Test]
    public async Task QuarterlyCohorts_AndCsv()
    {
        var table = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?interval=quarter&segment=cohort-test");
        var q1 = table.GetProperty("cohorts").EnumerateArray().Single();
        Assert.That(q1.Str("cohort"), Is.EqualTo("2025-Q1"));
        Assert.That(q1.GetProperty("accounts").GetInt32(), Is.EqualTo(4));
        Assert.That(D(Period(q1, 0), "grossRevenueRetention"), Is.EqualTo(250 / 450d).Within(1e-9));
        Assert.That(D(Period(q1, 0), "netRevenueRetention"), Is.EqualTo(300 / 450d).Within(1e-9));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/cohorts/churn?segment=cohort-test");
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await Admin.SendAsync(request);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/csv"));
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("cohort,cohortStart,accounts,startingMrr"));
        Assert.That(lines, Has.Some.StartsWith("2025-01,2025-01-01,3,400,").And.Some.Contains(",1,2025-03-01,true,3,1,0.75,0.875,350"));
        Assert.That(lines, Has.Some.StartsWith("weighted average,,4,,,,,,1,,true,4,1,0.777778,0.888889,"));
    }

    [Test]
    public async Task AnOlderStateSentLater_JoinsTheHistory_WithoutReplacingTheCurrentFacts()
    {
        using (var current = await Admin.PutAsJsonAsync("/api/v1/accounts/c-late", new { segment = "cohort-late", contractStart = "2025-05-01", mrr = 70, effectiveAt = "2025-06-01T00:00:00Z" }))
        {
            Assert.That(current.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }

        using (var older = await Admin.PutAsJsonAsync("/api/v1/accounts/c-late", new { segment = "cohort-late", contractStart = "2025-05-01", mrr = 60, effectiveAt = "2025-05-01T00:00:00Z" }))
        {
            Assert.That(older.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var account = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts/c-late");
        Assert.That(account.GetProperty("mrr").GetDouble(), Is.EqualTo(70));
        var cohort = (await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?segment=cohort-late")).GetProperty("cohorts")[0];
        Assert.That(D(cohort, "startingMrr"), Is.EqualTo(60), "the first known MRR");
        Assert.That(D(Period(cohort, 1), "netRevenueRetention"), Is.EqualTo(70 / 60d).Within(1e-9), "expansion to 70 in June");

        using var future = await Admin.PutAsJsonAsync("/api/v1/accounts/c-late", new { mrr = 1, effectiveAt = DateTimeOffset.UtcNow.AddDays(1) });
        Assert.That(future.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task ACrmChangeAfterARead_ShowsInTheNextRead()
    {
        using (var put = await Admin.PutAsJsonAsync("/api/v1/accounts/c-fresh", new { segment = "cohort-fresh", contractStart = "2025-03-01", mrr = 100, effectiveAt = "2025-03-01T00:00:00Z" }))
        {
            put.EnsureSuccessStatusCode();
        }

        var before = (await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?segment=cohort-fresh")).GetProperty("cohorts")[0];
        Assert.That(D(before.GetProperty("periods").EnumerateArray().Last(), "netRevenueRetention"), Is.EqualTo(1.0));

        // An expansion today, then a churn: each shows in the very next table (the CRM inputs are refreshed).
        using (var put = await Admin.PutAsJsonAsync("/api/v1/accounts/c-fresh", new { segment = "cohort-fresh", contractStart = "2025-03-01", mrr = 180 }))
        {
            put.EnsureSuccessStatusCode();
        }

        var expanded = (await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?segment=cohort-fresh")).GetProperty("cohorts")[0];
        Assert.That(D(expanded.GetProperty("periods").EnumerateArray().Last(), "netRevenueRetention"), Is.EqualTo(1.8));

        using (var put = await Admin.PutAsJsonAsync("/api/v1/accounts/c-fresh", new { segment = "cohort-fresh", contractStart = "2025-03-01", mrr = 180, status = "churned", churnedAt = DateTimeOffset.UtcNow.AddMinutes(-1) }))
        {
            put.EnsureSuccessStatusCode();
        }

        var churned = (await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?segment=cohort-fresh")).GetProperty("cohorts")[0];
        var last = churned.GetProperty("periods").EnumerateArray().Last();
        Assert.That((last.GetProperty("retainedAccounts").GetInt32(), D(last, "netRevenueRetention")), Is.EqualTo((0, 0.0)));
    }

    [TestCase("interval=week", "interval")]
    [TestCase("from=2025-13", "from")]
    [TestCase("to=yesterday", "to")]
    public async Task BadParameters_AreRejectedWithTheFieldAndWhy(string query, string field)
    {
        using var response = await Admin.GetAsync($"/api/v1/cohorts/churn?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
    }

    [Test]
    public async Task FromAndTo_SelectCohorts()
    {
        var table = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?segment=cohort-test&from=2025-02&to=2025-02-28");
        Assert.That(table.GetProperty("cohorts").EnumerateArray().Select(c => c.Str("cohort")), Is.EqualTo(new[] { "2025-02" }));
    }
}
