using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HealthScoring.Bench.Load;
using HealthScoring.Bench.Processes;
using HealthScoring.Bench.Report;
using HealthScoring.Protos.V1;

namespace HealthScoring.Bench.Soak;

/// <summary>
/// <c>soak [--minutes 10] [--interval 30] [--events-per-second 5000] [--reads-per-second 100] [--accounts 2000] [--sqlite-cache-mib N]</c>:
/// steady mixed load on the real service (a child process on a fresh SQLite store, the scorer and webhook
/// dispatcher running): paced gRPC ingestion and REST reads (health, portfolio page, risk flags), with memory and
/// latency printed per interval, so a leak or a slow drift shows as a trend.
/// </summary>
internal static class SoakCommand
{
    private static readonly string[] Names = ["login", "page.view", "report.viewed", "report.exported", "record.created", "integration.sync"];

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var minutes = CommandLine.Option(args, "--minutes", 10);
        var interval = TimeSpan.FromSeconds(CommandLine.Option(args, "--interval", 30));
        var eventsPerSecond = CommandLine.Option(args, "--events-per-second", 5000);
        var readsPerSecond = CommandLine.Option(args, "--reads-per-second", 100);
        var accounts = CommandLine.Option(args, "--accounts", 2000);
        var cacheMiB = CommandLine.Option(args, "--sqlite-cache-mib", 0);
        const int batch = 500;

        var directory = RepositoryPaths.NewScratchDirectory("soak");
        var settings = cacheMiB > 0 ? new Dictionary<string, string> { ["HealthScoring__Storage__SqliteCacheMiB"] = cacheMiB.ToString(CultureInfo.InvariantCulture) } : [];
        await using var server = await ChildServer.StartAsync([RepositoryPaths.ServiceDll(null)], directory, directory, settings, cancellationToken);
        using var grpc = new GrpcIngestClient(server.GrpcUrl, ChildServer.ApiKey, 2);
        using var http = new HttpClient { BaseAddress = server.RestUrl, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ChildServer.ApiKey);

        var window = new Window();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(TimeSpan.FromMinutes(minutes));
        var started = Stopwatch.StartNew();

        // Paced loops: each sends its next call at its scheduled time, so load stays steady (not closed-loop).
        async Task Paced(double perSecond, Func<long, Task> call)
        {
            var period = TimeSpan.FromSeconds(1 / perSecond);
            var next = started.Elapsed;
            for (long n = 0; !stop.IsCancellationRequested; n++)
            {
                next += period;
                var wait = next - started.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }

                await call(n);
            }
        }

        var ingest = Paced(eventsPerSecond / (double)batch, async n =>
        {
            var body = GrpcIngestClient.Frame(Batch(n, batch, accounts));
            var t = Stopwatch.GetTimestamp();
            var result = await grpc.IngestAsync(body, body.Length, (int)(n % 2), CancellationToken.None);
            window.Ingest(Stopwatch.GetTimestamp() - t, result.Status == 0 ? result.Accepted : -1);
        });
        var random = new Random(7);
        var reads = Paced(readsPerSecond, async n =>
        {
            var path = (n % 3) switch
            {
                0 => $"/api/v1/accounts/soak-{random.Next(accounts):0000}/health",
                1 => "/api/v1/accounts?limit=100",
                _ => "/api/v1/risk-flags?limit=100",
            };
            var t = Stopwatch.GetTimestamp();
            try
            {
                using var response = await http.GetAsync(path, CancellationToken.None);
                await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                window.Read(Stopwatch.GetTimestamp() - t, (int)response.StatusCode is 200 or 404);
            }
            catch (HttpRequestException)
            {
                window.Read(Stopwatch.GetTimestamp() - t, false);
            }
        });

        Console.WriteLine($"""
            ## Soak: mixed load for {minutes} minutes (issue 6)

            {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {MachineInfo.Current()}
            SQLite page cache per connection: {(cacheMiB > 0 ? $"{cacheMiB} MiB" : "the service's default (8 MiB)")}.
            Load: {eventsPerSecond:N0} events/s over gRPC (batches of {batch}, {accounts:N0} accounts, 2 connections) and {readsPerSecond} REST reads/s
            (health of a random account, a portfolio page, a risk-flag page), paced; the scorer and the webhook dispatcher run as usual.

            | Time | RSS (MiB) | Events/s stored | Ingest p50 / p99 (ms) | Reads/s | Read p50 / p99 (ms) | Errors |
            |---:|---:|---:|---:|---:|---:|---:|
            """);
        var peak = 0L;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            var w = window.Take();
            var (peakNow, current) = server.Memory();
            peak = Math.Max(peak, peakNow);
            var seconds = w.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {started.Elapsed:mm\\:ss} | {current / (1024.0 * 1024):0} | {w.Events / seconds:N0} | {w.IngestLatency.PercentileMs(50):0.0} / {w.IngestLatency.PercentileMs(99):0.0} | {w.ReadLatency.Count / seconds:0} | {w.ReadLatency.PercentileMs(50):0.0} / {w.ReadLatency.PercentileMs(99):0.0} | {w.Errors} |"));
        }

        await Task.WhenAll(ingest, reads);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Peak RSS {peak / (1024.0 * 1024):0} MiB."));
        return 0;
    }

    private static IngestRequest Batch(long n, int size, int accounts)
    {
        var request = new IngestRequest();
        var random = new Random((int)n);
        var at = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(-5));
        for (var i = 0; i < size; i++)
        {
            var account = random.Next(accounts);
            request.Events.Add(new UsageEvent
            {
                AccountId = $"soak-{account:0000}",
                EventId = $"soak-{n}-{i}",
                Name = Names[random.Next(Names.Length)],
                UserId = $"u{random.Next(20)}",
                OccurredAt = at,
                Quantity = 1,
            });
        }

        return request;
    }

    /// <summary>What happened since the last <see cref="Take"/>.</summary>
    private sealed class Window
    {
        private readonly Lock _lock = new();
        private Latencies _ingest = new();
        private Latencies _reads = new();
        private long _events;
        private int _errors;
        private Stopwatch _since = Stopwatch.StartNew();

        public void Ingest(long ticks, int accepted)
        {
            lock (_lock)
            {
                _ingest.Add(ticks);
                if (accepted < 0)
                {
                    _errors++;
                }
                else
                {
                    _events += accepted;
                }
            }
        }

        public void Read(long ticks, bool ok)
        {
            lock (_lock)
            {
                _reads.Add(ticks);
                _errors += ok ? 0 : 1;
            }
        }

        public (Latencies IngestLatency, Latencies ReadLatency, long Events, int Errors, TimeSpan Elapsed) Take()
        {
            lock (_lock)
            {
                var taken = (_ingest, _reads, _events, _errors, _since.Elapsed);
                (_ingest, _reads, _events, _errors, _since) = (new Latencies(), new Latencies(), 0, 0, Stopwatch.StartNew());
                return taken;
            }
        }
    }
}
