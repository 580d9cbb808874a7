using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace HealthScoring.Bench.Processes;

/// <summary>
/// The garbage collector settings the service runs with, read from its built <c>runtimeconfig.json</c> and given as
/// the runtime's environment variables. Work the benchmark runs in its own process (the scorer of the scoring
/// command) must run under them, or its figures are not the service's: under the benchmark's own workstation GC a
/// rollover paid 1 s of pauses, under the service's server GC with its adaptive mode 1.7 s, without it 0.07 s.
/// </summary>
internal static class ServiceGc
{
    private const string Relaunched = "HEALTHSCORING_BENCH_SERVICE_GC";

    /// <summary>The service's GC settings as environment variables; a variable already set in this environment wins.</summary>
    public static Dictionary<string, string> Settings()
    {
        var path = Path.ChangeExtension(RepositoryPaths.ServiceDll(null), ".runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        var settings = new Dictionary<string, string>();
        if (properties.TryGetProperty("System.GC.Server", out var server))
        {
            settings["DOTNET_gcServer"] = server.GetBoolean() ? "1" : "0";
        }

        if (properties.TryGetProperty("System.GC.Concurrent", out var concurrent))
        {
            settings["DOTNET_gcConcurrent"] = concurrent.GetBoolean() ? "1" : "0";
        }

        if (properties.TryGetProperty("System.GC.DynamicAdaptationMode", out var adaptation))
        {
            settings["DOTNET_GCDynamicAdaptationMode"] = adaptation.GetInt32().ToString(CultureInfo.InvariantCulture);
        }

        // A setting given in the environment wins, as it would for the service (e.g. DATAS turned back on).
        foreach (var key in settings.Keys.ToList())
        {
            settings[key] = Environment.GetEnvironmentVariable(key) ?? settings[key];
        }

        return settings;
    }

    /// <summary>
    /// Runs this benchmark again as a child process with the service's GC settings (unless this process is that child)
    /// and returns its exit code; null when this process already runs with them.
    /// </summary>
    public static async Task<int?> RelaunchUnlessServiceGcAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable(Relaunched) == "1")
        {
            // What this process really runs with, as the runtime reports it.
            string[] shown = ["ServerGC", "ConcurrentGC", "HeapCount", "GCDynamicAdaptationMode"];
            var actual = GC.GetConfigurationVariables();
            Progress.Say($"GC in this process: {string.Join(", ", shown.Select(k => $"{k} {actual.GetValueOrDefault(k)}"))}");
            return null;
        }

        // Started as `dotnet HealthScoring.Bench.dll` the host needs the assembly; started through its apphost
        // (`dotnet run`), the apphost is the program.
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(RepositoryPaths.BenchDll);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in Settings())
        {
            start.Environment[key] = value;
        }

        start.Environment[Relaunched] = "1";
        using var child = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        try
        {
            await child.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C reaches the child too: let it stop its service and delete its scratch store before giving up on it.
            try
            {
                await child.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            }
            catch (TimeoutException)
            {
                child.Kill(entireProcessTree: true);
            }

            throw;
        }

        return child.ExitCode;
    }
}
