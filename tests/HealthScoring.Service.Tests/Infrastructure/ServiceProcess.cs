using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HealthScoring.Service.Tests.Infrastructure;

/// <summary>
/// The real service as a child process (the built HealthScoring.Service.dll) on free loopback ports with
/// its own SQLite store: real Kestrel, real HTTP/2, real files, and a process that can really be killed.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, Uri rest, Uri grpc, string dataDirectory)
    {
        _process = process;
        RestUrl = rest;
        GrpcUrl = grpc;
        DataDirectory = dataDirectory;
    }

    public Uri RestUrl { get; }

    public Uri GrpcUrl { get; }

    public string DataDirectory { get; }

    public string DatabasePath => Path.Combine(DataDirectory, "healthscoring.db");

    /// <summary>The ingest journal beside the store (acknowledged events not yet folded, idempotency keys).</summary>
    public string JournalPath => HealthScoring.Service.Storage.SqliteStoreDataSource.JournalPathFor(DatabasePath);

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public static string NewDataDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "healthscoring-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static async Task<ServiceProcess> StartAsync(
        string? dataDirectory = null,
        IReadOnlyDictionary<string, string>? settings = null,
        bool bootstrapKey = true,
        bool waitReady = true)
    {
        dataDirectory ??= NewDataDirectory();
        var rest = new Uri($"http://127.0.0.1:{FreePort()}");
        var grpc = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDirectory,
        };
        start.ArgumentList.Add(Repository.ServiceDll);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Kestrel__Endpoints__Rest__Url"] = rest.ToString().TrimEnd('/');
        start.Environment["Kestrel__Endpoints__Grpc__Url"] = grpc.ToString().TrimEnd('/');
        start.Environment["ConnectionStrings__HealthScoring"] = $"Data Source={Path.Combine(dataDirectory, "healthscoring.db")}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        if (bootstrapKey)
        {
            start.Environment["HealthScoring__Auth__BootstrapAdminKey"] = AdminKey;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var service = new ServiceProcess(process, rest, grpc, dataDirectory);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await service.WaitListeningAsync(waitReady);
        return service;
    }

    public HttpClient RestClient(string? key = AdminKey)
    {
        var client = new HttpClient { BaseAddress = RestUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public GrpcTestClient GrpcClient(string? key = AdminKey) => new(GrpcUrl, key);

    /// <summary>SIGTERM: the host's graceful stop (what an orchestrator sends first).</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGKILL: no graceful stop, no flush, no finally blocks.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitListeningAsync(bool waitReady)
    {
        using var client = new HttpClient { BaseAddress = RestUrl, Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                var response = await client.GetAsync(waitReady ? "/readyz" : "/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The service did not become ready:\n{Output}");
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

internal static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The service built in the same configuration as these tests (the test project references it).</summary>
    public static string ServiceDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var dll = Path.Combine(Root, "src", "HealthScoring.Service", "bin", configuration, "net10.0", "HealthScoring.Service.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first", dll);
        }
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "HealthScoring.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("HealthScoring.sln not found above the test directory");
    }
}
