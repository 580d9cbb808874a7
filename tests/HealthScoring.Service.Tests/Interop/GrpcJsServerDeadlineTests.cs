using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Interop;

/// <summary>
/// The server's own deadline, as grpc-js sees it. With a client deadline far longer than the server's
/// HealthScoring:Grpc:MaxDeadline (1 s here), only the server can end the call, so the DEADLINE_EXCEEDED grpc-js
/// reports is the server's status (not grpc-js's local timer, which races it in GrpcJsInteropTests).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class GrpcJsServerDeadlineTests
{
    private ServiceProcess _service = null!;
    private GrpcJsClient _grpcJs = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        GrpcJsClient.EnsureInstalled();
        _service = await ServiceProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["HealthScoring:Grpc:MaxDeadline"] = "00:00:01",
        });
        _grpcJs = new GrpcJsClient(_service.GrpcUrl);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }

    [Test]
    public async Task GrpcJs_DeadlineLongerThanServerMaximum_IsCutAndEndedByTheServer()
    {
        var account = $"js-{Guid.NewGuid():N}";

        var result = await _grpcJs.RunAsync(new GrpcJsScenario(GrpcJsScenario.IngestStream)
        {
            Batches = [JsEvent.Batch(account, "cut-0", 2), JsEvent.Batch(account, "cut-1", 2)],
            PauseMs = 5000,
            DeadlineMs = 30_000,
        }, ServiceProcess.AdminKey);

        Assert.That(result.Code, Is.EqualTo(4), result.ToString());
        // The server's wording (grpc-js's own would be "Deadline exceeded after 30.0s, ...").
        Assert.That(result.Details, Is.EqualTo("Deadline exceeded: the call's deadline of 1000 ms passed."), "the server names the limit that applied, not the client's 30 s");
        Assert.That(result.MessagesSent, Is.EqualTo(1), "the server ended the call before the slow second message was due");
    }
}
