using System.Diagnostics;
using System.Text.Json;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Examples;

/// <summary>The README's "send events" example works as written (so it cannot rot).</summary>
[TestFixture]
public sealed class ReadmeExampleTests
{
    [Test]
    public async Task SendEventsExample_RunTwice_StoresOnceThenReportsDuplicates()
    {
        var script = Path.Combine(Repository.Root, "examples", "node", "send-events.mjs");
        Assert.That(Directory.Exists(Path.Combine(Repository.Root, "examples", "node", "node_modules")), Is.True,
            "examples/node/node_modules is missing: run the README's test command (bash tests/run.sh), which installs it");
        await using var service = await ServiceProcess.StartAsync();
        using var rest = service.RestClient();
        var key = await rest.CreateKeyAsync("example sender", "ingest");
        var arguments = new[] { script, "--key", key, "--address", service.GrpcUrl.Authority, "--account", "example-acme", "--events", "12" };

        var first = await RunNodeAsync(arguments);
        var second = await RunNodeAsync(arguments);

        Assert.That(first.GetProperty("accepted").GetInt32(), Is.EqualTo(12));
        Assert.That(second.GetProperty("duplicates").GetInt32(), Is.EqualTo(12));
        Assert.That(await rest.EventCountAsync("example-acme"), Is.EqualTo(12));
    }

    private static async Task<JsonElement> RunNodeAsync(string[] arguments)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, error);
        return JsonDocument.Parse(output).RootElement;
    }
}
