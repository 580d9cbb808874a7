using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Auth;

/// <summary>Keys and scopes on the REST port; problem details for every refusal.</summary>
[TestFixture]
public sealed class RestAuthTests : ServiceFixture
{

    [TestCase("/healthz")]
    [TestCase("/readyz")]
    public async Task HealthChecks_NeedNoKey(string path)
    {
        using var anonymous = Service.RestClient(key: null);

        using var response = await anonymous.GetAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase("/api/v1/accounts/x")]
    [TestCase("/api/v1/api-keys")]
    [TestCase("/swagger/v1/swagger.json")]
    [TestCase("/no/such/route")]
    public async Task EverythingElse_WithoutKey_Is401Problem(string path)
    {
        using var anonymous = Service.RestClient(key: null);

        using var response = await anonymous.GetAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Bearer"));
    }

    [Test]
    public async Task UnknownKey_Is401()
    {
        using var stranger = Service.RestClient(key: "hs_unknown");

        using var response = await stranger.GetAsync("/api/v1/accounts/x");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task ReadKey_OnAdminRoute_Is403Problem()
    {
        using var reader = Service.RestClient(await Admin.CreateKeyAsync("reader", "read"));

        using var list = await reader.GetAsync("/api/v1/api-keys");
        using var account = await reader.GetAsync("/api/v1/accounts/nobody");

        Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(list.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(account.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "read is enough for GETs");
    }

    [Test]
    public async Task IngestKey_OnRestGet_Is403()
    {
        using var sender = Service.RestClient(await Admin.CreateKeyAsync("sender", "ingest"));

        using var response = await sender.GetAsync("/api/v1/accounts/x");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task OpenApiDocument_WithReadKey_DescribesTheRoutes()
    {
        using var response = await Admin.GetAsync("/swagger/v1/swagger.json");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("/api/v1/accounts/{accountId}").And.Contain("/api/v1/api-keys"));
    }

    [Test]
    public async Task OpenApiUi_WithReadKey_IsServed_WithIngestKey_Is403_AndUnknownSwaggerPath_Is404()
    {
        using var reader = Service.RestClient(await Admin.CreateKeyAsync("ui-reader", "read"));
        using var sender = Service.RestClient(await Admin.CreateKeyAsync("ui-sender", "ingest"));

        using var page = await reader.GetAsync("/swagger/index.html");
        using var refused = await sender.GetAsync("/swagger/index.html");
        using var missing = await reader.GetAsync("/swagger/v9/nothing.json");

        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await page.Content.ReadAsStringAsync(), Does.Contain("swagger-ui"));
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task CreateKey_ShowsSecretOnce_AndListNeverShowsIt()
    {
        using var created = await Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "crm", scopes = new[] { "read", "write" } });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var secret = body.GetProperty("key").GetString()!;

        var list = await Admin.GetStringAsync("/api/v1/api-keys");

        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That(created.Headers.Location?.ToString(), Does.StartWith("/api/v1/api-keys/key_"));
        Assert.That(secret, Does.StartWith("hs_").And.Length.GreaterThan(40));
        Assert.That(list, Does.Contain(body.GetProperty("id").GetString()).And.Not.Contain(secret));
    }

    [TestCase("""{"name":"x","scopes":["root"]}""", "scopes", "unknown scope 'root'")]
    [TestCase("""{"name":"","scopes":["read"]}""", "name", "required")]
    [TestCase("""{"name":"x","scopes":[]}""", "scopes", "at least one")]
    public async Task CreateKey_InvalidRequest_Is400WithFieldErrors(string json, string field, string message)
    {
        using var response = await Admin.PostAsync("/api/v1/api-keys", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").GetProperty(field)[0].GetString(), Does.Contain(message));
    }

    [TestCase("{\"name\": ")]
    [TestCase("[1,2,3]")]
    [TestCase("{\"name\": 5, \"scopes\": \"read\"}")]
    public async Task CreateKey_MalformedJson_Is400ProblemSayingWhy(string json)
    {
        using var response = await Admin.PostAsync("/api/v1/api-keys", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("JSON"));
    }

    [Test]
    public async Task RequestBodyOverOneMebibyte_IsRefused()
    {
        var json = "{\"name\":\"" + new string('x', 1_100_000) + "\",\"scopes\":[\"read\"]}";

        // Expect: 100-continue lets the server refuse on Content-Length before the body is sent, instead of
        // resetting a connection that is still uploading.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/api-keys") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        using var response = await Admin.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    [Test]
    public async Task DeletedKey_StopsWorking()
    {
        using var created = await Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "temp", scopes = new[] { "read" } });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var temp = Service.RestClient(body.GetProperty("key").GetString());
        Assert.That((await temp.GetAsync("/api/v1/accounts/x")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        using var deleted = await Admin.DeleteAsync($"/api/v1/api-keys/{body.GetProperty("id").GetString()}");
        using var after = await temp.GetAsync("/api/v1/accounts/x");
        using var again = await Admin.DeleteAsync($"/api/v1/api-keys/{body.GetProperty("id").GetString()}");

        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
