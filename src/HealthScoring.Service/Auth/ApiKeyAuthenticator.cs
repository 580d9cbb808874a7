using System.Collections.Concurrent;

namespace HealthScoring.Service.Auth;

internal interface IApiKeyAuthenticator
{
    /// <summary>The principal for an <c>Authorization: Bearer &lt;key&gt;</c> value, or null.</summary>
    ValueTask<ApiKeyPrincipal?> AuthenticateAsync(string? authorization, CancellationToken cancellationToken);

    /// <summary>Forget cached answers, e.g. after a key was revoked here.</summary>
    void Invalidate();
}

/// <summary>
/// Verifies keys by the hash of the presented secret. Answers are cached briefly (both hits and misses)
/// so a high-rate sender costs one lookup per <see cref="AuthOptions.CacheTtl"/>, not one per call; a key
/// revoked on another replica stops working within that time.
/// </summary>
internal sealed class ApiKeyAuthenticator(ApiKeyRepository keys, AuthOptions options, TimeProvider clock) : IApiKeyAuthenticator
{
    private readonly ConcurrentDictionary<string, (ApiKeyPrincipal? Principal, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);
    private readonly byte[]? _bootstrapHash = string.IsNullOrEmpty(options.BootstrapAdminKey) ? null : ApiKeySecret.Hash(options.BootstrapAdminKey);

    public async ValueTask<ApiKeyPrincipal?> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        const string bearer = "Bearer ";
        if (authorization is null || !authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var secret = authorization[bearer.Length..].Trim();
        if (secret.Length is 0 or > 256)
        {
            return null;
        }

        var hash = ApiKeySecret.Hash(secret);
        if (_bootstrapHash is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(hash, _bootstrapHash))
        {
            return BootstrapPrincipal;
        }

        var cacheKey = Convert.ToHexString(hash);
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(cacheKey, out var cached) && cached.Expires > now)
        {
            return cached.Principal;
        }

        var principal = await keys.FindActiveByHashAsync(hash, cancellationToken);
        if (_cache.Count > 10_000)
        {
            _cache.Clear(); // bounded: a flood of random keys cannot grow memory
        }

        _cache[cacheKey] = (principal, now + options.CacheTtl);
        return principal;
    }

    public void Invalidate() => _cache.Clear();

    private static readonly ApiKeyPrincipal BootstrapPrincipal = new("bootstrap", "bootstrap admin", [Scopes.Admin]);
}
