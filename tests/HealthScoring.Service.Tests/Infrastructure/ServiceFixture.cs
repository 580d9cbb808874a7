namespace HealthScoring.Service.Tests.Infrastructure;

/// <summary>
/// One real service process for a fixture's tests: started once before them (with <see cref="Settings"/>),
/// with an admin REST client and a gRPC client, and killed after them.
/// </summary>
public abstract class ServiceFixture
{
    private protected ServiceProcess Service { get; private set; } = null!;

    private protected HttpClient Admin { get; private set; } = null!;

    private protected GrpcTestClient Grpc { get; private set; } = null!;

    /// <summary>Extra configuration of the service under test (keys as in appsettings, e.g. <c>HealthScoring:Grpc:MaxMessageBytes</c>).</summary>
    private protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    [OneTimeSetUp]
    public async Task StartServiceAsync()
    {
        Service = await ServiceProcess.StartAsync(settings: Settings);
        Admin = Service.RestClient();
        Grpc = Service.GrpcClient();
    }

    [OneTimeTearDown]
    public async Task StopServiceAsync()
    {
        Admin?.Dispose();
        Grpc?.Dispose();
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
    }
}
