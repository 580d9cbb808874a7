using System.Net;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>With SQL Server configured but absent, the service starts, says why it is not ready, and stores nothing.</summary>
[TestFixture]
public sealed class StoreUnavailableTests
{
    [Test]
    public async Task SqlServerAbsent_ServiceStartsNotReady_AndIngestIsUnavailable()
    {
        await using var service = await ServiceProcess.StartAsync(waitReady: false, settings: new Dictionary<string, string>
        {
            ["HealthScoring:Storage:Provider"] = "SqlServer",
            ["ConnectionStrings:HealthScoring"] = "Server=127.0.0.1,1;Database=hs;User Id=sa;Password=x;Connect Timeout=2;TrustServerCertificate=true",
        });
        using var anonymous = service.RestClient(key: null);
        using var grpc = service.GrpcClient();

        using var ready = await anonymous.GetAsync("/readyz");
        var reply = await grpc.CallAsync(GrpcTestClient.Ingest, Events.Batch("absent", 2));
        var health = await grpc.CallAsync("/grpc.health.v1.Health/Check", new global::Grpc.Health.V1.HealthCheckRequest());

        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await ready.Content.ReadAsStringAsync(), Does.Contain("not reachable"));
        Assert.That(reply.Status, Is.EqualTo(14), reply.Message);
        Assert.That(reply.Metadata, Does.ContainKey("grpc-retry-pushback-ms"));
        Assert.That(health.Single(global::Grpc.Health.V1.HealthCheckResponse.Parser).Status,
            Is.EqualTo(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing));
        Assert.That(service.HasExited, Is.False);
    }
}
