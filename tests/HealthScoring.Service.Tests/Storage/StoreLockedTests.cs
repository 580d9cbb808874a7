using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>
/// SQLite files locked by another process (an exclusive transaction held by python3's sqlite3), then released. The
/// ingest journal locked: ingestion is refused with a retry hint and stores nothing, /readyz says why, and both
/// recover by themselves. The store locked: acknowledgements go on (the journal is a file of its own), and the
/// events are counted once the store is free again.
/// </summary>
[TestFixture]
public sealed class StoreLockedTests : ServiceFixture
{
    private protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["HealthScoring:Storage:SqliteBusyTimeout"] = "00:00:00.300",
    };

    [Test]
    public async Task LockedJournal_RefusesWithAHint_ReadyzSaysWhy_ThenRecovers()
    {
        var before = Events.Batch("lock-a", 10, accounts: 1, accountPrefix: "lock-acct");
        Assert.That((await Grpc.CallAsync(GrpcTestClient.Ingest, before)).Status, Is.EqualTo(0));

        using var holder = await LockAsync(Service.JournalPath);

        var during = Events.Batch("lock-b", 10, accounts: 1, accountPrefix: "lock-acct");
        var refused = await Grpc.CallAsync(GrpcTestClient.Ingest, during);
        Assert.That(refused.Status, Is.EqualTo(14), "UNAVAILABLE: " + refused.Message);
        Assert.That(refused.Metadata, Does.ContainKey("grpc-retry-pushback-ms"));

        using var anonymous = Service.RestClient(key: null);
        using (var notReady = await anonymous.GetAsync("/readyz"))
        {
            Assert.That(notReady.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), refused.Message + " / " + await notReady.Content.ReadAsStringAsync() + "\n" + Service.Output);
            Assert.That(await notReady.Content.ReadAsStringAsync(), Does.Contain("Writes to the store are failing"));
        }

        // Released: ready again without any write from outside, and the refused batch, sent again, counts once.
        await holder.StandardInput.WriteLineAsync("release");
        await holder.WaitForExitAsync();
        using (var ready = await anonymous.GetAsync("/readyz"))
        {
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK), await ready.Content.ReadAsStringAsync());
        }

        var retried = await Grpc.CallAsync(GrpcTestClient.Ingest, during);
        Assert.That(retried.Status, Is.EqualTo(0), retried.Message);
        Assert.That(retried.Single(IngestResponse.Parser).Accepted, Is.EqualTo(10));
        var account = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts/lock-acct-0");
        Assert.That(account.GetProperty("usage").GetProperty("eventCount").GetInt64(), Is.EqualTo(20), "every acknowledged event once, nothing of the refused call");
    }

    [Test]
    public async Task LockedStore_AcknowledgementsGoOn_AndCountOnceItIsFree()
    {
        using (var holder = await LockAsync(Service.DatabasePath))
        {
            var during = await Grpc.CallAsync(GrpcTestClient.Ingest, Events.Batch("lock-s", 12, accounts: 1, accountPrefix: "lock-store"));
            Assert.That(during.Status, Is.EqualTo(0), during.Message);
            Assert.That(during.Single(IngestResponse.Parser).Accepted, Is.EqualTo(12));
            await holder.StandardInput.WriteLineAsync("release");
            await holder.WaitForExitAsync();
        }

        var account = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts/lock-store-0");
        Assert.That(account.GetProperty("usage").GetProperty("eventCount").GetInt64(), Is.EqualTo(12), "folded once the store was free, and read after it");
        var again = await Grpc.CallAsync(GrpcTestClient.Ingest, Events.Batch("lock-s", 12, accounts: 1, accountPrefix: "lock-store"));
        Assert.That(again.Single(IngestResponse.Parser).Duplicates, Is.EqualTo(12));
    }

    /// <summary>A python3 process holding an exclusive transaction on <paramref name="path"/> until it reads a line.</summary>
    private static async Task<Process> LockAsync(string path)
    {
        var holder = Process.Start(new ProcessStartInfo("python3")
        {
            ArgumentList =
            {
                "-c",
                "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.readline(); c.execute('ROLLBACK')",
                path,
            },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        Assert.That(await holder.StandardOutput.ReadLineAsync(), Is.EqualTo("locked"));
        return holder;
    }
}
