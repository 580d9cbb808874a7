using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Hosting;

/// <summary>Malformed JSON to every REST route that takes a body, and bad query values: a 4xx problem saying why, never a 500.</summary>
[TestFixture]
public sealed class MalformedRequestTests : ServiceFixture
{
    private static readonly (string Method, string Path)[] BodyRoutes =
    [
        ("PUT", "/api/v1/accounts/m-1"),
        ("PUT", "/api/v1/accounts/m-1/health/override"),
        ("POST", "/api/v1/rescore"),
        ("PUT", "/api/v1/scorecards/m-card"),
        ("POST", "/api/v1/api-keys"),
        ("PUT", "/api/v1/webhooks/m-hook"),
    ];

    private static readonly string[] Bodies =
    [
        "{not json", "", "null", "[]", "\"text\"", "{\"a\":", "{\"name\": 12, \"mrr\": \"lots\"}", "{}{}", "\u0000\u0001\u0002",
        new string('[', 5000) + new string(']', 5000),
    ];

    /// <summary>Every route with every bad body (for rescore, whose body is optional, an empty or null body means "all": not bad).</summary>
    private static IEnumerable<TestCaseData> Cases() =>
        from route in BodyRoutes
        from body in Bodies.Select((b, i) => (b, i))
        where !(route.Path == "/api/v1/rescore" && body.b is "" or "null")
        select new TestCaseData(route.Method, route.Path, body.b).SetName($"{route.Method} {route.Path} body #{body.i}");

    [TestCaseSource(nameof(Cases))]
    public async Task MalformedBody_Is4xxProblem_Never500(string method, string path, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await Admin.SendAsync(request);

        Assert.That((int)response.StatusCode, Is.InRange(400, 499), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.TryGetProperty("detail", out _) || problem.TryGetProperty("errors", out _), Is.True, problem.ToString());
    }

    [TestCase("/api/v1/risk-flags?limit=abc")]
    [TestCase("/api/v1/accounts?minScore=1e999")]
    [TestCase("/api/v1/accounts/m-1/health?asOf=2026-02-30")]
    [TestCase("/api/v1/accounts/m-1/health/history?from=yesterday")]
    [TestCase("/api/v1/cohorts/churn?interval=%00")]
    [TestCase("/api/v1/webhooks/m-hook/deliveries?limit=-5")]
    [TestCase("/api/v1/scorecards/default?version=x")]
    public async Task BadQueryValue_Is4xx_Never500(string path)
    {
        using var response = await Admin.GetAsync(path);
        Assert.That((int)response.StatusCode, Is.InRange(400, 499), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task WrongContentType_Is415()
    {
        using var response = await Admin.PutAsync("/api/v1/accounts/m-2", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.That((int)response.StatusCode, Is.EqualTo(415), await response.Content.ReadAsStringAsync());
    }
}
