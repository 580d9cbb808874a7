using System.Collections.Concurrent;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Ingestion;

/// <summary>An acknowledged event survives SIGKILL of the service and is never counted twice.</summary>
[TestFixture]
public sealed class DurabilityTests
{
    private const int Senders = 4;
    private const int BatchSize = 100;
    private const int AccountsPerSender = 5;

    [Test]
    public async Task Ingest_ServiceKilledWhileAcknowledging_EveryAcknowledgedEventStoredOnce()
    {
        var dataDirectory = ServiceProcess.NewDataDirectory();
        var sent = new ConcurrentDictionary<string, IngestRequest>();
        var acknowledged = new ConcurrentDictionary<string, bool>();
        var inFlight = 0;
        var inFlightAtKill = 0;

        await using (var service = await ServiceProcess.StartAsync(dataDirectory))
        {
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, Senders).Select(s => Task.Run(async () =>
            {
                using var client = service.GrpcClient();
                for (var b = 0; !stop.IsCancellationRequested; b++)
                {
                    var id = $"s{s}-b{b}";
                    var batch = Batch(s, id);
                    sent[id] = batch;
                    Interlocked.Increment(ref inFlight);
                    try
                    {
                        var reply = await client.CallAsync(GrpcTestClient.Ingest, batch);
                        if (reply.Status == 0 && reply.Single(IngestResponse.Parser).Accepted == BatchSize)
                        {
                            acknowledged[id] = true;
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the server is gone: this batch was never acknowledged
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                    }
                }
            })).ToList();

            // Group commit acknowledges several calls at once: wait until calls are in flight again.
            while (acknowledged.Count < 40 || Volatile.Read(ref inFlight) == 0)
            {
                await Task.Delay(5);
            }

            inFlightAtKill = Volatile.Read(ref inFlight);
            service.Kill(); // SIGKILL in the middle of acknowledgements
            stop.Cancel();
            await Task.WhenAll(senders);
        }

        Assert.That(acknowledged, Has.Count.GreaterThanOrEqualTo(40));
        Assert.That(inFlightAtKill, Is.GreaterThan(0), "batches were in flight when the process died");

        await using var restarted = await ServiceProcess.StartAsync(dataDirectory);
        using var grpc = restarted.GrpcClient();
        using var rest = restarted.RestClient();

        // Before any resend: every acknowledged event is there.
        for (var s = 0; s < Senders; s++)
        {
            for (var a = 0; a < AccountsPerSender; a++)
            {
                var ackedForAccount = acknowledged.Keys.Count(id => id.StartsWith($"s{s}-", StringComparison.Ordinal)) * (BatchSize / AccountsPerSender);
                Assert.That(await rest.EventCountAsync(Account(s, a)) ?? 0, Is.GreaterThanOrEqualTo(ackedForAccount), Account(s, a));
            }
        }

        // Resend everything: acknowledged batches are all duplicates; the others were stored whole or not at all.
        foreach (var (id, batch) in sent)
        {
            var response = (await grpc.CallAsync(GrpcTestClient.Ingest, batch)).Single(IngestResponse.Parser);
            if (acknowledged.ContainsKey(id))
            {
                Assert.That((response.Accepted, response.Duplicates), Is.EqualTo((0, BatchSize)), $"acknowledged batch {id}");
            }
            else
            {
                Assert.That(response.Accepted, Is.EqualTo(0).Or.EqualTo(BatchSize), $"batch {id} was half stored");
            }
        }

        // And now each event sent is counted exactly once.
        for (var s = 0; s < Senders; s++)
        {
            var batches = sent.Keys.Count(id => id.StartsWith($"s{s}-", StringComparison.Ordinal));
            for (var a = 0; a < AccountsPerSender; a++)
            {
                Assert.That(await rest.EventCountAsync(Account(s, a)), Is.EqualTo(batches * (BatchSize / AccountsPerSender)), Account(s, a));
            }
        }
    }

    private static string Account(int sender, int account) => $"dur-{sender}-{account}";

    private static IngestRequest Batch(int sender, string id)
    {
        var batch = new IngestRequest();
        for (var i = 0; i < BatchSize; i++)
        {
            batch.Events.Add(Events.One(Account(sender, i % AccountsPerSender), $"{id}-e{i}", userId: $"u{i % 7}"));
        }

        return batch;
    }
}
