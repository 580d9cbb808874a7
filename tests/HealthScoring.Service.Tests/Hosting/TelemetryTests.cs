using System.Text;
using HealthScoring.Service.Tests.Infrastructure;
using static HealthScoring.Service.Tests.Infrastructure.Usage;

namespace HealthScoring.Service.Tests.Hosting;

/// <summary>
/// Traces and metrics really leave the service: it exports over OTLP (HTTP/protobuf) to a real receiver (WireMock
/// standing in for an OpenTelemetry collector), and the spans and instruments it promises are in what arrives.
/// </summary>
[TestFixture]
public sealed class TelemetryTests
{
    private WireMockProcess _collector = null!;
    private ServiceProcess _service = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _collector = await WireMockProcess.StartAsync();
        foreach (var path in new[] { "/v1/traces", "/v1/metrics", "/v1/logs" })
        {
            await _collector.StubAsync(System.Text.Json.JsonSerializer.Serialize(new { request = new { method = "POST", urlPath = path }, response = new { status = 200 } }));
        }

        _service = await ServiceProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _collector.Url(""),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["HealthScoring:Scoring:PollInterval"] = "00:00:00.200",
        });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        if (_collector is not null)
        {
            await _collector.DisposeAsync();
        }
    }

    /// <summary>Waits until the bodies posted to <paramref name="path"/> contain every name (protobuf keeps strings as UTF-8).</summary>
    private async Task<string> WaitForNamesAsync(string path, params string[] names)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            seen = string.Concat((await _collector.RequestsAsync(path)).Select(r => Encoding.UTF8.GetString(r.BodyBytes)));
            if (names.All(n => seen.Contains(n, StringComparison.Ordinal)))
            {
                return seen;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"not every name reached {path} within 60 s: missing {string.Join(", ", names.Where(n => !seen.Contains(n, StringComparison.Ordinal)))}");
        return seen;
    }

    [Test]
    public async Task IngestAndScoring_AreTracedAndMeasured_AndExportedOverOtlp()
    {
        using var grpc = _service.GrpcClient();
        await SendDaysAsync(grpc, "otel-1", [3, 2, 1, 0]);
        using var admin = _service.RestClient();
        await WaitForAsync(admin, "/api/v1/accounts/otel-1", a => a.GetProperty("score").ValueKind == System.Text.Json.JsonValueKind.Number);

        var traces = await WaitForNamesAsync("/v1/traces",
            "healthscoring.ingest Ingest", "healthscoring.store.write", "healthscoring.store.fold", "healthscoring.scoring.round", "healthscoring", "GET /api/v1/accounts/{accountId}");
        Assert.That(traces, Does.Contain("rpc.grpc.status"));

        await WaitForNamesAsync("/v1/metrics",
            "healthscoring.ingest.events", "healthscoring.ingest.duration", "healthscoring.store.batch.duration", "healthscoring.store.backlog",
            "healthscoring.store.unfolded", "healthscoring.scoring.accounts", "healthscoring.scoring.lag", "http.server.request.duration", "dotnet.gc.collections");
    }

    [Test]
    public async Task HealthChecks_AreNotTraced()
    {
        using var anonymous = _service.RestClient(key: null);
        for (var i = 0; i < 5; i++)
        {
            using var _ = await anonymous.GetAsync("/healthz");
        }

        // A traced request after them: once it has arrived, the health checks would have too.
        using var admin = _service.RestClient();
        using (var flags = await admin.GetAsync("/api/v1/risk-flags"))
        {
            flags.EnsureSuccessStatusCode();
        }

        await WaitForNamesAsync("/v1/traces", "GET /api/v1/risk-flags");
        var traces = string.Concat((await _collector.RequestsAsync("/v1/traces")).Select(r => Encoding.UTF8.GetString(r.BodyBytes)));
        Assert.That(traces, Does.Not.Contain("/healthz"));
    }
}
