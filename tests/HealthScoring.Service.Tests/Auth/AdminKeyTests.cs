using System.Net;
using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Auth;

/// <summary>First start without a bootstrap key: an admin key is generated into the data folder, once.</summary>
[TestFixture]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AdminKeyTests
{
    [Test]
    public async Task FirstStartWithoutBootstrapKey_WritesOwnerOnlyAdminKeyFile_AndNeverLogsIt()
    {
        var data = ServiceProcess.NewDataDirectory();
        string key;
        await using (var service = await ServiceProcess.StartAsync(data, bootstrapKey: false))
        {
            var file = Path.Combine(data, "admin-key.txt");
            Assert.That(File.Exists(file), Is.True);
            key = (await File.ReadAllTextAsync(file)).Trim();
            Assert.That(File.GetUnixFileMode(file), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            using var admin = service.RestClient(key);
            Assert.That((await admin.GetAsync("/api/v1/api-keys")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(service.Output, Does.Contain("admin-key.txt").And.Not.Contain(key));
        }

        File.Delete(Path.Combine(data, "admin-key.txt"));
        await using var restarted = await ServiceProcess.StartAsync(data, bootstrapKey: false);
        Assert.That(File.Exists(Path.Combine(data, "admin-key.txt")), Is.False, "a key exists already: no new one");
        using var client = restarted.RestClient(key);
        Assert.That((await client.GetAsync("/api/v1/api-keys")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
