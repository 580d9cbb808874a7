using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace HealthScoring.Bench.Processes;

/// <summary>
/// A server under test as a child process (<c>dotnet some.dll ...</c>), configured the way CONTRACT says
/// the service is: Kestrel endpoints on free loopback ports, its own SQLite file, a bootstrap admin key,
/// warnings-only logging. Ready when <c>/readyz</c> answers 200; stopped with SIGTERM, then SIGKILL.
/// </summary>
internal sealed class ChildServer : IAsyncDisposable
{
    public const string ApiKey = "bench-admin-key-0123456789abcdef0123";

    private const int OutputLinesKept = 40;

    private readonly Process _process;
    private readonly Queue<string> _output = new();

    private ChildServer(Process process, Uri restUrl, Uri grpcUrl, string databasePath)
    {
        _process = process;
        RestUrl = restUrl;
        GrpcUrl = grpcUrl;
        DatabasePath = databasePath;
    }

    public Uri RestUrl { get; }

    public Uri GrpcUrl { get; }

    public string DatabasePath { get; }

    public int Pid => _process.Id;

    /// <summary>The last lines the server wrote (for error reports).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <param name="arguments">What follows <c>dotnet</c>: the dll and its arguments.</param>
    /// <param name="settings">Extra configuration, as environment variables (<c>Section__Key</c>).</param>
    public static async Task<ChildServer> StartAsync(
        IReadOnlyList<string> arguments,
        string workingDirectory,
        string dataDirectory,
        IReadOnlyDictionary<string, string> settings,
        CancellationToken cancellationToken)
    {
        var rest = new Uri($"http://127.0.0.1:{FreePort()}");
        var grpc = new Uri($"http://127.0.0.1:{FreePort()}");
        var databasePath = Path.Combine(dataDirectory, "healthscoring.db");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Kestrel__Endpoints__Rest__Url"] = rest.ToString().TrimEnd('/');
        start.Environment["Kestrel__Endpoints__Grpc__Url"] = grpc.ToString().TrimEnd('/');
        start.Environment["ConnectionStrings__HealthScoring"] = $"Data Source={databasePath}";
        start.Environment["HealthScoring__Auth__BootstrapAdminKey"] = ApiKey;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // Benchmarks measure capacity with one key: the per-key rate limits (a fairness guard) are lifted.
        start.Environment["HealthScoring__RateLimits__RequestsPerSecond"] = "0";
        start.Environment["HealthScoring__RateLimits__EventsPerSecond"] = "0";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var server = new ChildServer(process, rest, grpc, databasePath);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitReadyAsync(cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public (long Peak, long Current) Memory() => ProcFs.Memory(Pid);

    /// <summary>A graceful stop (SIGTERM: the host drains and disposes the store), SIGKILL after 20 s.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("kill did not start."))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > OutputLinesKept)
            {
                _output.Dequeue();
            }
        }
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = RestUrl, Timeout = TimeSpan.FromSeconds(2) };
        var until = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < until)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"The server did not become ready within 60 s:\n{Output}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
