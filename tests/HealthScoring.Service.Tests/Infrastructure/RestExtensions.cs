using System.Net.Http.Json;
using System.Text.Json;

namespace HealthScoring.Service.Tests.Infrastructure;

internal static class RestExtensions
{
    /// <summary>The account's <c>usage.eventCount</c> over REST, or null when the account is unknown (404).</summary>
    public static async Task<long?> EventCountAsync(this HttpClient client, string accountId)
    {
        using var response = await client.GetAsync($"/api/v1/accounts/{Uri.EscapeDataString(accountId)}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("usage").GetProperty("eventCount").GetInt64();
    }

    /// <summary>Creates a key with the given scopes through the admin API and returns its secret.</summary>
    public static async Task<string> CreateKeyAsync(this HttpClient admin, string name, params string[] scopes)
    {
        using var response = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name, scopes });
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("key").GetString()!;
    }
}
