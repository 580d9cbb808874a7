using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Service.Tests.Infrastructure;
using static HealthScoring.Service.Tests.Infrastructure.Usage;

namespace HealthScoring.Service.Tests.Accounts;

/// <summary>Bulk pulls of the book of business: filters, cursor paging while scores change, incremental sync.</summary>
[TestFixture]
public sealed class PortfolioPullTests : ServiceFixture
{
    private protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["HealthScoring:Scoring:PollInterval"] = "00:00:00.200",
    };

    private static readonly string[] Book = [.. Enumerable.Range(0, 12).Select(i => $"p-{i:00}")];

    [OneTimeSetUp]
    public async Task BookAsync()
    {
        foreach (var (id, i) in Book.Select((id, i) => (id, i)))
        {
            using var put = await Admin.PutAsJsonAsync($"/api/v1/accounts/{id}", new { segment = "portfolio", plan = i % 2 == 0 ? "pro" : "basic", mrr = 100 + i, seatsPurchased = 5 });
            put.EnsureSuccessStatusCode();
            // Even accounts active every day; odd ones quiet for 20 days (inactive, and a lower score).
            await SendDaysAsync(Grpc, id, i % 2 == 0 ? Enumerable.Range(0, 20) : [25, 24, 23, 22, 21, 20]);
        }

        await WaitForAsync(Admin, "/api/v1/accounts?segment=portfolio&limit=1000",
            p => Items(p).Count == Book.Length && Items(p).All(a => a.GetProperty("score").ValueKind == JsonValueKind.Number)
                 && Items(p).Count(a => a.GetProperty("riskFlags").EnumerateArray().Any(f => f.Str("type") == "inactive")) == Book.Length / 2);
    }

    private async Task<List<JsonElement>> PullAllAsync(string query, int pageSize, Func<int, Task>? betweenPages = null)
    {
        var all = new List<JsonElement>();
        string? cursor = null;
        var page = 0;
        do
        {
            var body = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/accounts?{query}&limit={pageSize}{(cursor is null ? "" : $"&cursor={cursor}")}");
            Assert.That(Items(body), Has.Count.LessThanOrEqualTo(pageSize));
            all.AddRange(Items(body));
            cursor = body.Str("nextCursor") is { Length: > 0 } next ? next : null;
            if (betweenPages is not null)
            {
                await betweenPages(page);
            }

            page++;
        }
        while (cursor is not null && page < 1000);

        return all;
    }

    [Test]
    public async Task Paging_ServesEveryAccountOnce_WhileScoresChangeUnderneath()
    {
        // Between pages, accounts ahead of and behind the cursor get new activity (and new scores).
        var pulled = await PullAllAsync("segment=portfolio", 2, async page => await SendDaysAsync(Grpc, Book[(page * 5) % Book.Length], [0]));

        Assert.That(pulled.Select(a => a.Str("accountId")), Is.EqualTo(Book), "every account exactly once, in id order");
        Assert.That(pulled.All(a => a.Str("segment") == "portfolio" && a.GetProperty("mrr").ValueKind == JsonValueKind.Number));
    }

    [Test]
    public async Task Filters_BandRiskFlagScoreRangeAndPlan()
    {
        var inactive = await PullAllAsync("segment=portfolio&riskFlag=inactive", 100);
        Assert.That(inactive.Select(a => a.Str("accountId")), Is.EqualTo(Book.Where((_, i) => i % 2 == 1)));
        Assert.That(inactive.All(a => a.GetProperty("riskFlags").EnumerateArray().Any(f => f.Str("type") == "inactive" && f.Str("severity") == "high")));

        var everything = await PullAllAsync("segment=portfolio", 100);
        var band = everything[0].Str("band");
        var byBand = await PullAllAsync($"segment=portfolio&band={band}", 100);
        Assert.That(byBand.Select(a => a.Str("accountId")), Is.EqualTo(everything.Where(a => a.Str("band") == band).Select(a => a.Str("accountId"))));

        var low = everything.Min(a => a.GetProperty("score").GetInt32());
        var ranged = await PullAllAsync($"segment=portfolio&minScore={low}&maxScore={low}", 100);
        Assert.That(ranged, Is.Not.Empty);
        Assert.That(ranged.All(a => a.GetProperty("score").GetInt32() == low));

        var pro = await PullAllAsync("segment=portfolio&plan=pro", 100);
        Assert.That(pro.Select(a => a.Str("accountId")), Is.EqualTo(Book.Where((_, i) => i % 2 == 0)));
    }

    [Test]
    public async Task UpdatedSince_ReturnsTheAccountsThatChanged_EachOnce()
    {
        var first = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts?segment=portfolio&limit=1000");
        var since = first.Str("nextUpdatedSince");
        Assert.That(DateTimeOffset.Parse(since, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(DateTimeOffset.UtcNow.AddSeconds(-50)), "a minute of overlap");

        // p-01 comes back: its inactive flag clears, so its flags (and likely its score) change.
        await SendDaysAsync(Grpc, "p-01", [0]);
        await WaitForAsync(Admin, "/api/v1/accounts/p-01/risk-flags", p => !Items(p).Any(f => f.Str("type") == "inactive"));

        var changed = await PullAllAsync($"segment=portfolio&updatedSince={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddSeconds(-30).ToString("O"))}", 1);
        Assert.That(changed.Select(a => a.Str("accountId")), Does.Contain("p-01"));
        Assert.That(changed.Select(a => a.Str("accountId")), Is.Unique);
        Assert.That(changed.All(a => DateTimeOffset.Parse(a.Str("updatedAt"), System.Globalization.CultureInfo.InvariantCulture) >= DateTimeOffset.UtcNow.AddSeconds(-90)));

        var none = await PullAllAsync($"segment=portfolio&updatedSince={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"))}", 10);
        Assert.That(none, Is.Empty);
    }

    [TestCase("band=blue", "band")]
    [TestCase("riskFlag=nope", "riskFlag")]
    [TestCase("minScore=90&maxScore=10", "minScore")]
    [TestCase("minScore=-1", "minScore")]
    [TestCase("updatedSince=last-week", "updatedSince")]
    [TestCase("cursor=bm9wZQ", "cursor")]
    [TestCase("limit=5000", "limit")]
    public async Task BadParameters_AreRejectedWithTheFieldAndWhy(string query, string field)
    {
        using var response = await Admin.GetAsync($"/api/v1/accounts?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
    }
}
