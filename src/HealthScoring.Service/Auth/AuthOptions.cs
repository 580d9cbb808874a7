namespace HealthScoring.Service.Auth;

/// <summary><c>HealthScoring:Auth</c>.</summary>
internal sealed class AuthOptions
{
    public const string Section = "HealthScoring:Auth";

    /// <summary>When set, this secret is an API key with every scope (never stored, compared by hash).</summary>
    public string? BootstrapAdminKey { get; set; }

    /// <summary>How long a verified (or refused) key is remembered before the store is asked again.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(30);
}
