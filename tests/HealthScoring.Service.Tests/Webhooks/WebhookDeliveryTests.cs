using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HealthScoring.Service.Tests.Infrastructure;
using static HealthScoring.Service.Tests.Infrastructure.Usage;

namespace HealthScoring.Service.Tests.Webhooks;

/// <summary>
/// Webhook deliveries to a real WireMock receiver: signed, retried through errors, timeouts, a receiver that is down
/// for a while and a service restarted mid-retry; every delivery arrives. A flag raised today is the trigger: an
/// account whose only activity was 14 days ago goes inactive today.
/// </summary>
[TestFixture]
public sealed class WebhookDeliveryTests : ServiceFixture
{
    private const string Secret = "whsec-test-0123456789abcdef";

    private WireMockProcess _receiver = null!;

    internal static readonly Dictionary<string, string> WebhookSettings = new()
    {
        ["HealthScoring:Scoring:PollInterval"] = "00:00:00.200",
        ["HealthScoring:Webhooks:AllowHttp"] = "true",
        ["HealthScoring:Webhooks:PollInterval"] = "00:00:00.100",
        ["HealthScoring:Webhooks:Timeout"] = "00:00:01",
        ["HealthScoring:Webhooks:ImmediateRetries"] = "1",
        ["HealthScoring:Webhooks:RetryBaseDelay"] = "00:00:00.300",
        ["HealthScoring:Webhooks:MaxRetryDelay"] = "00:00:02",
        ["HealthScoring:Webhooks:BreakerMinimumThroughput"] = "3",
        ["HealthScoring:Webhooks:BreakerSamplingDuration"] = "00:00:05",
        ["HealthScoring:Webhooks:BreakerBreakDuration"] = "00:00:01",
    };

    private protected override IReadOnlyDictionary<string, string> Settings => WebhookSettings;

    [OneTimeSetUp]
    public async Task StartReceiverAsync() => _receiver = await WireMockProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopReceiverAsync()
    {
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }
    }

    [Test]
    public async Task Success_SignedDelivery_TheReceiverCanVerify_AndRescoringDoesNotRepeatIt()
    {
        await StubAsync("/hooks/ok", status: 200);
        await RegisterAsync(Admin, "ok", "/hooks/ok");

        await SendDaysAsync(Grpc, "w-ok", [14]);
        var received = await WaitForFlagsAsync("/hooks/ok", ["w-ok"]);

        // (A retry after a slow answer would be the same delivery: the receiver drops repeats by the delivery id.)
        Assert.That(received.Select(r => r.Header("HealthScoring-Delivery")).Distinct().Count(), Is.EqualTo(1));
        var request = received[0];
        var body = JsonDocument.Parse(request.Body).RootElement;
        var signature = request.Header("HealthScoring-Signature");
        var t = signature.Split(',')[0]["t=".Length..];
        var v1 = signature.Split(',')[1]["v1=".Length..];
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{t}.{request.Body}")));
        Assert.Multiple(() =>
        {
            Assert.That(CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(v1), Encoding.ASCII.GetBytes(expected)), Is.True, "HMAC-SHA256 over '{t}.{body}'");
            Assert.That(long.Parse(t, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(300));
            Assert.That(request.Header("HealthScoring-Timestamp"), Is.EqualTo(t));
            Assert.That(body.Str("id"), Is.EqualTo(request.Header("HealthScoring-Delivery")).And.StartWith("dl_"));
            Assert.That(body.Str("type"), Is.EqualTo("risk_flag.raised"));
            Assert.That(request.Header("HealthScoring-Event"), Is.EqualTo("risk_flag.raised"));
            Assert.That(body.GetProperty("data").GetProperty("flag").Str("raisedOn"), Is.EqualTo(Day(0)));
            Assert.That(body.GetProperty("data").GetProperty("flag").Str("reason"), Does.StartWith("No activity for 14 days"));
        });

        var log = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/webhooks/ok/deliveries");
        var delivery = Items(log).Single(d => d.Str("id") == body.Str("id"));
        Assert.That((delivery.Str("state"), delivery.GetProperty("lastStatus").GetInt32()), Is.EqualTo(("delivered", 200)));

        // A rescore recomputes the same flag: no second flag, no second delivery.
        using var rescore = await Admin.PostAsJsonAsync("/api/v1/rescore", new { accountIds = new[] { "w-ok" } });
        Assert.That(rescore.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        await Task.Delay(1500);
        Assert.That(InactiveFor(await _receiver.RequestsAsync("/hooks/ok"), "w-ok").Select(r => r.Header("HealthScoring-Delivery")).Distinct().Count(), Is.EqualTo(1));
        var flags = Items(await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts/w-ok/risk-flags?state=all"));
        Assert.That(flags.Count(f => f.Str("type") == "inactive"), Is.EqualTo(1));

        // A back-filled history whose account went quiet weeks ago: the flag is recorded on its day, not announced.
        await SendDaysAsync(Grpc, "w-past", [40]);
        await WaitForAsync(Admin, "/api/v1/accounts/w-past/risk-flags", p => Items(p).Any(f => f.Str("type") == "inactive" && f.Str("raisedOn") == Day(26)));
        await Task.Delay(1500);
        Assert.That(InactiveFor(await _receiver.RequestsAsync("/hooks/ok"), "w-past"), Is.Empty);
    }

    [Test]
    public async Task ServerErrorThenSuccess_IsRetried_SameDeliveryId()
    {
        await ScenarioAsync("/hooks/flaky", "w-flaky", "flaky", "Started", "recovered", 500);
        await ScenarioAsync("/hooks/flaky", "w-flaky", "flaky", "recovered", null, 200);
        await RegisterAsync(Admin, "flaky", "/hooks/flaky");

        await SendDaysAsync(Grpc, "w-flaky", [14]);
        await WaitForDeliveredAsync(Admin, "flaky", "w-flaky");

        var requests = InactiveFor(await _receiver.RequestsAsync("/hooks/flaky"), "w-flaky");
        Assert.That(requests, Has.Count.EqualTo(2), "one 500, then the retry");
        Assert.That(requests.Select(r => r.Header("HealthScoring-Delivery")).Distinct().Count(), Is.EqualTo(1), "a retry is the same delivery");
    }

    [Test]
    public async Task SlowReceiver_TimesOut_ThenTheDeliveryIsRetriedLater()
    {
        // The first two requests take 3 s (the service waits 1 s): the first round fails; a later round succeeds.
        await ScenarioAsync("/hooks/slow", "w-slow", "slow", "Started", "slow-2", 200, delayMs: 3000);
        await ScenarioAsync("/hooks/slow", "w-slow", "slow", "slow-2", "fast", 200, delayMs: 3000);
        await ScenarioAsync("/hooks/slow", "w-slow", "slow", "fast", null, 200);
        await RegisterAsync(Admin, "slow", "/hooks/slow");

        await SendDaysAsync(Grpc, "w-slow", [14]);
        var delivery = await WaitForDeliveredAsync(Admin, "slow", "w-slow");

        Assert.That(delivery.GetProperty("attempts").GetInt32(), Is.EqualTo(2), "two rounds: the first timed out");
        Assert.That(delivery.Str("lastError"), Is.Empty, "the last round succeeded");
        Assert.That(InactiveFor(await _receiver.RequestsAsync("/hooks/slow"), "w-slow"), Has.Count.GreaterThanOrEqualTo(3));
    }

    [Test]
    public async Task ReceiverDownForAWhile_EveryDeliveryArrivesWhenItIsBack()
    {
        await RegisterAsync(Admin, "down", "/hooks/down");
        await _receiver.StopAsync();
        var accounts = Enumerable.Range(0, 3).Select(i => $"w-down-{i}").ToArray();
        foreach (var account in accounts)
        {
            await SendDaysAsync(Grpc, account, [14]);
        }

        // Scoring goes on while deliveries fail: the flags are there, the deliveries pending with their error: a failed
        // attempt's, or, for one that only ever met the circuit the others' failures opened, why it was not sent.
        var pending = await WaitForAsync(Admin, "/api/v1/webhooks/down/deliveries?state=pending",
            p => accounts.All(a => Items(p).Any(d => IsInactiveFlagOf(d, a) && d.Str("lastError") != ""
                && (d.GetProperty("attempts").GetInt32() >= 1 || d.Str("lastError") == HealthScoring.Service.Webhooks.WebhookDispatcher.PostponedReason))));
        Assert.That(Items(pending).Sum(d => d.GetProperty("attempts").GetInt32()), Is.GreaterThanOrEqualTo(1), "the endpoint was tried");
        Assert.That(Items(pending).All(d => d.GetProperty("nextAttemptAt").ValueKind == JsonValueKind.String));
        foreach (var account in accounts)
        {
            Assert.That(Items(await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{account}/risk-flags")).Any(f => f.Str("type") == "inactive"));
        }

        await Task.Delay(2000);
        await _receiver.StartAgainAsync();
        await StubAsync("/hooks/down", status: 200);

        var received = await WaitForFlagsAsync("/hooks/down", accounts);
        Assert.That(received.Select(r => r.Header("HealthScoring-Delivery")).Distinct().Count(), Is.EqualTo(accounts.Length));
    }

    [Test]
    public async Task ServiceRestartedInTheMiddleOfRetries_TheDeliveryStillArrives()
    {
        var dataDirectory = ServiceProcess.NewDataDirectory();
        var service = await ServiceProcess.StartAsync(dataDirectory, WebhookSettings);
        try
        {
            using (var admin = service.RestClient())
            using (var grpc = service.GrpcClient())
            {
                await StubAsync("/hooks/restart", status: 503);
                await RegisterAsync(admin, "restart", "/hooks/restart");
                await SendDaysAsync(grpc, "w-restart", [14]);
                await WaitForAsync(admin, "/api/v1/webhooks/restart/deliveries?state=pending",
                    p => Items(p).Any(d => IsInactiveFlagOf(d, "w-restart") && d.GetProperty("attempts").GetInt32() >= 1 && d.Str("lastError") != ""));
            }

            service.Kill();
            await StubAsync("/hooks/restart", status: 200);
            await using var restarted = await ServiceProcess.StartAsync(dataDirectory, WebhookSettings);
            using var admin2 = restarted.RestClient();

            var delivered = await WaitForDeliveredAsync(admin2, "restart", "w-restart");
            Assert.That(delivered.GetProperty("lastStatus").GetInt32(), Is.EqualTo(200));
            Assert.That(delivered.GetProperty("attempts").GetInt32(), Is.GreaterThanOrEqualTo(2));
            var requests = InactiveFor(await _receiver.RequestsAsync("/hooks/restart"), "w-restart");
            Assert.That(requests.Select(r => r.Header("HealthScoring-Delivery")).Distinct().Count(), Is.EqualTo(1), "the same delivery, retried across the restart");
            Assert.That(requests, Has.Count.GreaterThanOrEqualTo(2));
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    [TestCase("""{"url":"ftp://example.com/x","secret":"0123456789abcdef","events":["risk_flag.raised"]}""", "url")]
    [TestCase("""{"url":"https://example.com/x","secret":"short","events":["risk_flag.raised"]}""", "secret")]
    [TestCase("""{"url":"https://example.com/x","secret":"0123456789abcdef","events":["risk_flag.exploded"]}""", "events")]
    [TestCase("""{"url":"https://example.com/x","secret":"0123456789abcdef","events":[]}""", "events")]
    [TestCase("""{"url":"https://example.com/x","secret":"0123456789abcdef","events":["risk_flag.raised"],"extra":1}""", "extra")]
    [TestCase("""{"secret":"0123456789abcdef","events":["risk_flag.raised"]}""", "url")]
    public async Task BadSubscription_IsRejectedWithTheFieldAndWhy(string json, string field)
    {
        using var response = await Admin.PutAsync("/api/v1/webhooks/bad", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
    }

    [Test]
    public async Task Subscriptions_NeedTheAdminScope_AndNeverShowTheSecret()
    {
        await RegisterAsync(Admin, "shown", "/hooks/shown");
        var hook = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/webhooks/shown");
        Assert.That(hook.TryGetProperty("secret", out _), Is.False);
        Assert.That(hook.GetRawText(), Does.Not.Contain(Secret));

        using var created = await Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "reader", scopes = new[] { "read" } });
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).Str("key");
        using var reader = Service.RestClient(key);
        using var denied = await reader.GetAsync("/api/v1/webhooks/shown");
        Assert.That(denied.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        using var deleted = await Admin.DeleteAsync("/api/v1/webhooks/shown");
        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        using var gone = await Admin.GetAsync("/api/v1/webhooks/shown");
        Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    private Task StubAsync(string path, int status) => _receiver.StubAsync(JsonSerializer.Serialize(new
    {
        request = new { method = "POST", urlPath = path },
        response = new { status, body = "ok" },
    }));

    /// <summary>
    /// A step of a WireMock scenario for the inactive flag of <paramref name="account"/> only (other deliveries to the
    /// path, e.g. another rule raised the same day, get the catch-all 200 and do not move the scenario on).
    /// </summary>
    private async Task ScenarioAsync(string path, string account, string scenario, string state, string? next, int status, int delayMs = 0)
    {
        await _receiver.StubAsync(JsonSerializer.Serialize(new { priority = 10, request = new { method = "POST", urlPath = path }, response = new { status = 200 } }));
        await _receiver.StubAsync(JsonSerializer.Serialize(new
        {
            priority = 1,
            scenarioName = scenario,
            requiredScenarioState = state,
            newScenarioState = next,
            request = new
            {
                method = "POST",
                urlPath = path,
                bodyPatterns = new[] { new { contains = $"\"accountId\":\"{account}\"" }, new { contains = "\"type\":\"inactive\"" } },
            },
            response = new { status, fixedDelayMilliseconds = delayMs },
        }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));
    }

    private async Task RegisterAsync(HttpClient admin, string id, string path)
    {
        using var response = await admin.PutAsJsonAsync($"/api/v1/webhooks/{id}", new { url = _receiver.Url(path), secret = Secret, events = new[] { "risk_flag.raised", "risk_flag.cleared" } });
        Assert.That(response.StatusCode, Is.AnyOf(HttpStatusCode.Created, HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    /// <summary>Received risk_flag.raised requests for an inactive flag of <paramref name="account"/>.</summary>
    private static List<ReceivedRequest> InactiveFor(IEnumerable<ReceivedRequest> requests, string account) => requests.Where(r =>
    {
        var body = JsonDocument.Parse(r.Body).RootElement;
        return body.Str("type") == "risk_flag.raised"
            && body.GetProperty("data").GetProperty("flag").Str("accountId") == account
            && body.GetProperty("data").GetProperty("flag").Str("type") == "inactive";
    }).ToList();

    private async Task<IReadOnlyList<ReceivedRequest>> WaitForFlagsAsync(string path, IReadOnlyList<string> accounts)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var requests = await _receiver.RequestsAsync(path);
            var byAccount = accounts.Select(a => InactiveFor(requests, a)).ToList();
            if (byAccount.All(r => r.Count > 0))
            {
                return byAccount.SelectMany(r => r).ToList();
            }

            await Task.Delay(200);
        }

        Assert.Fail($"not every account's inactive flag reached {path} within 60 s");
        return [];
    }

    /// <summary>Whether a delivery-log entry is about <paramref name="account"/>'s inactive flag.</summary>
    private static bool IsInactiveFlagOf(JsonElement delivery, string account) =>
        delivery.GetProperty("data").TryGetProperty("flag", out var flag) && flag.Str("accountId") == account && flag.Str("type") == "inactive";

    /// <summary>The delivered delivery of <paramref name="account"/>'s inactive flag, from the delivery log.</summary>
    private static async Task<JsonElement> WaitForDeliveredAsync(HttpClient admin, string id, string account)
    {
        var page = await WaitForAsync(admin, $"/api/v1/webhooks/{id}/deliveries?state=delivered&limit=1000", p => Items(p).Any(d => IsInactiveFlagOf(d, account)));
        return Items(page).Single(d => IsInactiveFlagOf(d, account));
    }
}
