using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Ingestion;

/// <summary>
/// SIGTERM while a client stream is in flight and unary calls keep coming: the process stops by itself within the
/// shutdown timeout, new calls are refused, what was acknowledged is stored once, nothing half-written remains.
/// </summary>
[TestFixture]
public sealed class GracefulShutdownTests
{
    [Test]
    public async Task Sigterm_DuringAStream_StopsCleanly_AndLosesNothingAcknowledged()
    {
        var dataDirectory = ServiceProcess.NewDataDirectory();
        var batches = Enumerable.Range(0, 6).Select(i => Events.Batch($"gs-{i}", 100, accounts: 2, accountPrefix: "gs-acct")).ToList();
        GrpcReply? streamReply = null;
        var unaryAcknowledged = 0;
        await using (var service = await ServiceProcess.StartAsync(dataDirectory))
        {
            using var grpc = service.GrpcClient();
            // The stream sends one batch every 400 ms; SIGTERM arrives after the second.
            var stream = Task.Run(async () =>
            {
                try
                {
                    streamReply = await grpc.SendAsync(GrpcTestClient.IngestStream, batches.Take(5).Select(b => GrpcTestClient.Frame(b)).ToList(),
                        pauseBetweenChunks: TimeSpan.FromMilliseconds(400));
                }
                catch (HttpRequestException)
                {
                    // The connection closed under the stream: nothing acknowledged, the client retries it.
                }
            });
            await Task.Delay(900);
            service.Terminate();
            var after = await grpc.CallAsync(GrpcTestClient.Ingest, batches[5]).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null);
            if (after is { Status: 0 })
            {
                unaryAcknowledged = after.Single(IngestResponse.Parser).Accepted;
            }

            await stream;
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(40));
            await service.WaitForExitAsync(exit.Token);
            Assert.That(service.ExitCode, Is.EqualTo(0), "a clean exit within the shutdown timeout\n" + service.Output);
        }

        var streamAcknowledged = streamReply is { Status: 0 } ? streamReply.Single(IngestResponse.Parser).Accepted : 0;
        Assert.That(streamReply?.Status, Is.AnyOf(0, 14, null), streamReply?.Message);
        await TestContext.Out.WriteLineAsync($"stream: status {streamReply?.Status} ({streamReply?.Message}), {streamAcknowledged} acknowledged; unary after SIGTERM: {unaryAcknowledged} acknowledged");

        // Restarted on the same store: exactly what was acknowledged is there; then everything resent counts once.
        await using var restarted = await ServiceProcess.StartAsync(dataDirectory);
        using var admin = restarted.RestClient();
        using var grpc2 = restarted.GrpcClient();
        async Task<long> StoredAsync() =>
            (await Task.WhenAll(new[] { "gs-acct-0", "gs-acct-1" }.Select(async a =>
            {
                using var response = await admin.GetAsync($"/api/v1/accounts/{a}");
                return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usage").GetProperty("eventCount").GetInt64() : 0;
            }))).Sum();

        Assert.That(await StoredAsync(), Is.GreaterThanOrEqualTo(streamAcknowledged + unaryAcknowledged), "every acknowledged event survived");
        foreach (var batch in batches)
        {
            Assert.That((await grpc2.CallAsync(GrpcTestClient.Ingest, batch)).Status, Is.EqualTo(0));
        }

        Assert.That(await StoredAsync(), Is.EqualTo(600), "each event exactly once after resending all");
    }
}
