using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Interop;

/// <summary>One usage event as tests/interop/client.mjs takes it: proto field names, occurred_at as RFC 3339 (null: not set).</summary>
internal sealed record JsEvent(
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("account_id")] string AccountId,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("occurred_at")] DateTimeOffset? OccurredAt,
    [property: JsonPropertyName("quantity")] double Quantity = 0,
    [property: JsonPropertyName("user_id")] string? UserId = null,
    [property: JsonPropertyName("properties")] IReadOnlyDictionary<string, string>? Properties = null)
{
    public static JsEvent Valid(string accountId, string eventId, string? userId = "u1") =>
        new(eventId, accountId, "login", DateTimeOffset.UtcNow.AddMinutes(-1), UserId: userId);

    /// <summary><paramref name="count"/> distinct valid events, ids prefix-0 ... prefix-(count-1).</summary>
    public static JsEvent[] Batch(string accountId, string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => Valid(accountId, $"{prefix}-{i}", $"u{i % 3}"))];
}

/// <summary>What client.mjs runs: a scenario kind and its inputs (see the comment at the top of client.mjs).</summary>
internal sealed record GrpcJsScenario(string Scenario)
{
    public const string Ingest = "ingest";
    public const string IngestStream = "ingest-stream";
    public const string HealthCheck = "health-check";
    public const string UnknownMethod = "unknown-method";

    public IReadOnlyList<JsEvent>? Events { get; init; }

    public IReadOnlyList<IReadOnlyList<JsEvent>>? Batches { get; init; }

    public int? PauseMs { get; init; }

    public int? DeadlineMs { get; init; }

    public string? Compression { get; init; }

    public string? Method { get; init; }
}

internal sealed record JsRejection(int Index, string EventId, string Field, string Reason);

/// <summary>The call's reply as grpc-js decoded it: IngestResponse fields, or the health status.</summary>
internal sealed record JsResponse(int? Accepted, int? Duplicates, IReadOnlyList<JsRejection>? Rejected, string? Status);

/// <summary>Exactly what grpc-js saw: numeric status code, details (grpc-message), reply and metadata.</summary>
internal sealed record GrpcJsResult(
    string Scenario,
    int Code,
    string CodeName,
    string Details,
    JsResponse? Response,
    IReadOnlyDictionary<string, string> Trailers,
    IReadOnlyDictionary<string, string> Headers,
    int MessagesSent)
{
    public override string ToString() => JsonSerializer.Serialize(this, GrpcJsClient.Json);
}

/// <summary>
/// Runs <c>node tests/interop/client.mjs</c> (@grpc/grpc-js, a third-party gRPC client) against a service and
/// returns the one JSON line it prints. The script reports; the tests assert.
/// </summary>
internal sealed class GrpcJsClient(Uri grpcUrl)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);

    public static string InteropDirectory => Path.Combine(Repository.Root, "tests", "interop");

    /// <summary>
    /// Fails (never skips) when the npm packages are not installed: these tests exist to prove interop with
    /// grpc-js, so passing without it would be a lie.
    /// </summary>
    public static void EnsureInstalled()
    {
        string[] packages = ["@grpc/grpc-js", "@grpc/proto-loader"];
        var missing = packages
            .Where(p => !File.Exists(Path.Combine(InteropDirectory, "node_modules", p, "package.json")))
            .ToArray();
        if (missing.Length > 0)
        {
            Assert.Fail(
                $"The grpc-js interop client is not installed ({string.Join(", ", missing)} missing under {Path.Combine(InteropDirectory, "node_modules")}): " +
                "run the README's test command (bash tests/run.sh), which installs it with `npm ci --prefix tests/interop`.");
        }
    }

    public async Task<GrpcJsResult> RunAsync(GrpcJsScenario scenario, string? apiKey)
    {
        var spec = JsonSerializer.Serialize(new
        {
            address = $"{grpcUrl.Host}:{grpcUrl.Port}",
            apiKey,
            scenario.Scenario,
            scenario.Events,
            scenario.Batches,
            scenario.PauseMs,
            scenario.DeadlineMs,
            scenario.Compression,
            scenario.Method,
        }, Json);

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = InteropDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(InteropDirectory, "client.mjs"));

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"Could not run `node` ({ex.Message}): install Node.js 20+ and put it on PATH to run the grpc-js interop tests.");
            throw;
        }

        using (process)
        {
            // The spec goes on stdin: the oversize scenario's message is larger than one argv string may be.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.StandardInput.WriteAsync(spec);
            process.StandardInput.Close();

            using var limit = new CancellationTokenSource(RunLimit);
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"client.mjs ({scenario.Scenario}) did not finish within {RunLimit}. stderr:\n{await stderr}");
            }

            var output = await stdout;
            var errors = await stderr;
            if (process.ExitCode != 0)
            {
                Assert.Fail($"client.mjs ({scenario.Scenario}) could not run the scenario (exit {process.ExitCode}):\n{errors}{output}");
            }

            var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            var result = line is null ? null : JsonSerializer.Deserialize<GrpcJsResult>(line, Json);
            Assert.That(result, Is.Not.Null, $"client.mjs ({scenario.Scenario}) printed no result line. stderr:\n{errors}");
            return result!;
        }
    }
}
