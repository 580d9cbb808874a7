using System.Diagnostics;
using System.Text.Json;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Hosting;

/// <summary>
/// No Docker engine or cluster runs here, so the deployment files are checked as far as they can be: every file
/// parses as YAML (npm's <c>yaml</c>, via tests/interop/check-manifests.mjs) and declares what the README promises.
/// </summary>
public sealed class DeploymentManifestTests
{
    private static JsonElement _files;

    [OneTimeSetUp]
    public static async Task ParseAsync()
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(Repository.Root, "tests", "interop", "check-manifests.mjs"));
        start.ArgumentList.Add(Repository.Root);
        using var node = Process.Start(start)!;
        var output = await node.StandardOutput.ReadToEndAsync();
        var errors = await node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.That(node.ExitCode, Is.Zero, errors);
        _files = JsonDocument.Parse(output).RootElement.Clone();
    }

    private static IEnumerable<JsonElement> Documents(string file) => _files.GetProperty(file).GetProperty("documents").EnumerateArray();

    private static JsonElement Kind(string kind) =>
        _files.EnumerateObject().SelectMany(f => f.Value.GetProperty("documents").EnumerateArray())
            .Single(d => d.ValueKind == JsonValueKind.Object && d.TryGetProperty("kind", out var k) && k.GetString() == kind);

    [Test]
    public void EveryFile_ParsesWithoutErrors()
    {
        Assert.That(_files.EnumerateObject().Select(f => f.Name), Has.Some.Contains("k8s/deployment.yaml").And.Some.Contains("docker-compose.yml"));
        foreach (var file in _files.EnumerateObject())
        {
            Assert.That(file.Value.GetProperty("errors").GetArrayLength(), Is.Zero, file.Name + ": " + file.Value.GetProperty("errors"));
        }
    }

    [Test]
    public void Compose_RunsTheServiceOnSqlServer_WithACollector()
    {
        var services = Documents("deploy/docker-compose.yml").Single().GetProperty("services");
        Assert.That(services.EnumerateObject().Select(s => s.Name), Is.EquivalentTo(new[] { "sqlserver", "healthscoring", "otel-collector" }));
        var env = services.GetProperty("healthscoring").GetProperty("environment");
        Assert.That(env.GetProperty("HealthScoring__Storage__Provider").GetString(), Is.EqualTo("SqlServer"));
        Assert.That(env.GetProperty("OTEL_EXPORTER_OTLP_ENDPOINT").GetString(), Does.Contain("otel-collector"));
    }

    [Test]
    public void Kubernetes_DeploymentHasBothProbesBothPortsAndRunsAsNonRoot()
    {
        var deployment = Kind("Deployment");
        var pod = deployment.GetProperty("spec").GetProperty("template").GetProperty("spec");
        var container = pod.GetProperty("containers")[0];
        Assert.Multiple(() =>
        {
            Assert.That(container.GetProperty("livenessProbe").GetProperty("httpGet").GetProperty("path").GetString(), Is.EqualTo("/healthz"));
            Assert.That(container.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("path").GetString(), Is.EqualTo("/readyz"));
            Assert.That(container.GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("containerPort").GetInt32()), Is.EquivalentTo(new[] { 8080, 8081 }));
            Assert.That(pod.GetProperty("securityContext").GetProperty("runAsNonRoot").GetBoolean(), Is.True);
            Assert.That(pod.GetProperty("terminationGracePeriodSeconds").GetInt32(), Is.GreaterThan(30), "longer than the host's shutdown timeout");
            Assert.That(container.GetProperty("envFrom").EnumerateArray().Select(e => e.EnumerateObject().Single().Name), Is.EquivalentTo(new[] { "configMapRef", "secretRef" }));
        });
    }

    [Test]
    public void Kubernetes_ServicesForRestAndGrpc_AnAutoscaler_ConfigAndSecret()
    {
        var services = _files.GetProperty("deploy/k8s/services.yaml").GetProperty("documents").EnumerateArray().ToList();
        Assert.That(services.Select(s => s.GetProperty("metadata").GetProperty("name").GetString()), Is.EquivalentTo(new[] { "healthscoring-rest", "healthscoring-grpc" }));
        Assert.That(Kind("HorizontalPodAutoscaler").GetProperty("spec").GetProperty("minReplicas").GetInt32(), Is.GreaterThanOrEqualTo(2));
        Assert.That(Kind("ConfigMap").GetProperty("data").GetProperty("HealthScoring__Storage__Provider").GetString(), Is.EqualTo("SqlServer"));
        Assert.That(Kind("Secret").GetProperty("stringData").TryGetProperty("ConnectionStrings__HealthScoring", out _), Is.True);
    }
}
