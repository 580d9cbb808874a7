using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace HealthScoring.Service.Tests.Infrastructure;

/// <summary>A request WireMock received: path, headers, body.</summary>
internal sealed record ReceivedRequest(string Url, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset LoggedAt, byte[] BodyBytes)
{
    public string Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value ?? "";
}

/// <summary>
/// The real WireMock (the standalone jar of npm's <c>wiremock</c> package, installed by tests/run.sh) on a loopback
/// port, run with the machine's Java and driven through its <c>/__admin</c> API. It can be stopped and started
/// again on the same port to play a receiver that goes down and comes back.
/// </summary>
internal sealed class WireMockProcess : IAsyncDisposable
{
    private readonly HttpClient _admin;
    private Process? _process;

    private WireMockProcess(int port)
    {
        Port = port;
        _admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }

    public static string Jar { get; } = FindJar();

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public static async Task<WireMockProcess> StartAsync()
    {
        var server = new WireMockProcess(ServiceProcess.FreePort());
        await server.StartAgainAsync();
        return server;
    }

    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo("java") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-Xmx256m", "-jar", Jar, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind-address", "127.0.0.1", "--disable-banner" })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("java did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await _admin.GetAsync("/__admin/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"WireMock exited with {_process.ExitCode}");
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("WireMock did not answer /__admin/health within 60 s");
    }

    /// <summary>Kills the receiver: connections to its port are refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Adds a stub mapping (WireMock's JSON mapping format).</summary>
    public async Task StubAsync(string mappingJson)
    {
        using var response = await _admin.PostAsync("/__admin/mappings", new StringContent(mappingJson, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Removes every mapping, the request journal and scenario states.</summary>
    public async Task ResetAsync()
    {
        using var response = await _admin.PostAsync("/__admin/reset", null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Requests received on paths starting with <paramref name="pathPrefix"/>, oldest first.</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> RequestsAsync(string pathPrefix)
    {
        var journal = await _admin.GetFromJsonAsync<JsonElement>("/__admin/requests");
        return journal.GetProperty("requests").EnumerateArray()
            .Select(r => r.GetProperty("request"))
            .Where(r => r.GetProperty("url").GetString()!.StartsWith(pathPrefix, StringComparison.Ordinal))
            .Select(r => new ReceivedRequest(
                r.GetProperty("url").GetString()!,
                r.GetProperty("headers").EnumerateObject().ToDictionary(h => h.Name, h => h.Value.ValueKind == JsonValueKind.Array ? h.Value[0].GetString()! : h.Value.GetString()!),
                r.TryGetProperty("body", out var body) ? body.GetString() ?? "" : "",
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetProperty("loggedDate").GetInt64()),
                r.TryGetProperty("bodyAsBase64", out var raw) && raw.GetString() is { Length: > 0 } b64 ? Convert.FromBase64String(b64) : []))
            .OrderBy(r => r.LoggedAt)
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _admin.Dispose();
    }

    private static string FindJar()
    {
        var dir = Path.Combine(Repository.Root, "tests", "interop", "node_modules", "wiremock", "build");
        var jar = Directory.Exists(dir) ? Directory.GetFiles(dir, "wiremock-standalone-*.jar").FirstOrDefault() : null;
        return jar ?? throw new FileNotFoundException($"The WireMock jar is missing under {dir}: run 'npm ci' in tests/interop (tests/run.sh does).");
    }
}
