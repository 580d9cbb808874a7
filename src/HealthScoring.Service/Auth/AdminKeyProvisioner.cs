using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Auth;

/// <summary>
/// First start without a bootstrap key and without any stored key: creates an admin key and writes it to
/// <c>&lt;data directory&gt;/admin-key.txt</c> with owner-only permissions. The log says where, never what.
/// </summary>
internal sealed partial class AdminKeyProvisioner(
    ApiKeyRepository keys,
    AuthOptions auth,
    StorageOptions storage,
    ILogger<AdminKeyProvisioner> logger) : IStoreSeed
{
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(auth.BootstrapAdminKey) || await keys.AnyActiveAsync(cancellationToken))
        {
            return;
        }

        var directory = storage.ResolveDataDirectory();
        Directory.CreateDirectory(directory);
        var path = Path.GetFullPath(Path.Combine(directory, "admin-key.txt"));
        var secret = ApiKeySecret.New();
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var file = new FileStream(path, options))
        await using (var writer = new StreamWriter(file))
        {
            await writer.WriteLineAsync(secret);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await keys.CreateAsync("initial admin", [Scopes.Admin], ApiKeySecret.Hash(secret), cancellationToken);
        LogCreated(logger, path);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key existed: created an admin key and wrote it to {Path} (owner-only). Use it to create scoped keys, then delete the file.")]
    private static partial void LogCreated(ILogger logger, string path);
}
