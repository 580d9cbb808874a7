using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Accounts;

/// <summary>CRM upserts: create, replace, enrich accounts first seen in events; every bad field named.</summary>
[TestFixture]
public sealed class AccountsApiTests : ServiceFixture
{

    private Task<HttpResponseMessage> PutAsync(string id, string json, HttpClient? client = null) =>
        (client ?? Admin).PutAsync($"/api/v1/accounts/{id}", new StringContent(json, Encoding.UTF8, "application/json"));

    [Test]
    public async Task Put_NewAccount_Is201_ThenReplacingIs200()
    {
        using var created = await PutAsync("crm-new", """
            {"name":"Initech","segment":"enterprise","plan":"pro","seatsPurchased":50,"mrr":4200.5,"currency":"EUR",
             "contractStart":"2026-01-15","renewalDate":"2027-01-15","championUserId":"peter",
             "goals":[{"metric":"tps.report","target":40,"windowDays":30}],"attributes":{"region":"EMEA","tier":2,"strategic":true}}
            """);
        using var replaced = await PutAsync("crm-new", """{"name":"Initech Ltd","seatsPurchased":60}""");

        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var first = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(() =>
        {
            Assert.That(first.GetProperty("segment").GetString(), Is.EqualTo("enterprise"));
            Assert.That(first.GetProperty("mrr").GetDouble(), Is.EqualTo(4200.5));
            Assert.That(first.GetProperty("contractStart").GetString(), Is.EqualTo("2026-01-15"));
            Assert.That(first.GetProperty("goals")[0].GetProperty("target").GetDouble(), Is.EqualTo(40));
            Assert.That(first.GetProperty("attributes").GetProperty("tier").GetInt32(), Is.EqualTo(2));
        });
        Assert.That(replaced.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var second = await replaced.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(second.GetProperty("name").GetString(), Is.EqualTo("Initech Ltd"));
        Assert.That(second.GetProperty("segment").ValueKind, Is.EqualTo(JsonValueKind.Null), "PUT replaces the CRM facts");
    }

    [Test]
    public async Task Put_AccountFirstSeenInEvents_KeepsItsUsage()
    {
        using var grpc = Service.GrpcClient();
        await grpc.CallAsync(GrpcTestClient.Ingest, Events.Batch("enrich", 7, accounts: 1, accountPrefix: "crm-enrich"));

        using var response = await PutAsync("crm-enrich-0", """{"name":"Enriched","seatsPurchased":5}""");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the account existed already");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(body.GetProperty("name").GetString(), Is.EqualTo("Enriched"));
        Assert.That(body.GetProperty("usage").GetProperty("eventCount").GetInt64(), Is.EqualTo(7));
    }

    [TestCase("""{"nmae":"typo"}""", "nmae", "unknown field")]
    [TestCase("""{"seatsPurchased":-1}""", "seatsPurchased", "whole number")]
    [TestCase("""{"seatsPurchased":2.5}""", "seatsPurchased", "whole number")]
    [TestCase("""{"mrr":"lots"}""", "mrr", "number")]
    [TestCase("""{"currency":"euro"}""", "currency", "ISO 4217")]
    [TestCase("""{"contractStart":"15/01/2026"}""", "contractStart", "YYYY-MM-DD")]
    [TestCase("""{"status":"paused"}""", "status", "'active' or 'churned'")]
    [TestCase("""{"churnedAt":"2026-01-01T00:00:00Z"}""", "churnedAt", "absent while status is 'active'")]
    [TestCase("""{"goals":[{"metric":"x","target":0}]}""", "goals[0].target", "greater than 0")]
    [TestCase("""{"goals":[{"target":5}]}""", "goals[0].metric", "required")]
    [TestCase("""{"goals":[{"metric":"x","target":5,"windowDays":999}]}""", "goals[0].windowDays", "1 to 365")]
    [TestCase("""{"attributes":{"nested":{"a":1}}}""", "attributes.nested", "strings")]
    [TestCase("""[1,2]""", "", "JSON object")]
    public async Task Put_BadField_Is400NamingTheFieldAndWhy(string json, string field, string reason)
    {
        using var response = await PutAsync("crm-bad", json);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").GetProperty(field)[0].GetString(), Does.Contain(reason));
        Assert.That(await Admin.EventCountAsync("crm-bad"), Is.Null, "nothing was stored");
    }

    [Test]
    public async Task Put_SeveralBadFields_AreAllReported()
    {
        using var response = await PutAsync("crm-many", """{"seatsPurchased":"ten","currency":"x","colour":"red"}""");

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(fields, Is.EquivalentTo(new[] { "seatsPurchased", "currency", "colour" }));
    }

    [Test]
    public async Task Put_WithReadOnlyKey_Is403_AndWithWriteKeyWorks()
    {
        using var reader = Service.RestClient(await Admin.CreateKeyAsync("crm reader", "read"));
        using var writer = Service.RestClient(await Admin.CreateKeyAsync("crm writer", "write"));

        using var refused = await PutAsync("crm-scope", """{"name":"x"}""", reader);
        using var accepted = await PutAsync("crm-scope", """{"name":"x"}""", writer);

        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Created));
    }

    [Test]
    public async Task Put_MrrAndSeatChanges_AreKeptAsATimeSeries()
    {
        await PutAsync("crm-series", """{"mrr":100,"seatsPurchased":10}""");
        await PutAsync("crm-series", """{"mrr":100,"seatsPurchased":10,"name":"same money"}""");
        await PutAsync("crm-series", """{"mrr":150,"seatsPurchased":12}""");
        await PutAsync("crm-series", """{"mrr":150,"seatsPurchased":12,"status":"churned","churnedAt":"2026-11-01T00:00:00Z"}""");

        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Service.DatabasePath};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM account_changes WHERE account_id = 'crm-series'";
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo(3L), "created, changed MRR/seats, churned; the rename is not a change");
    }
}
