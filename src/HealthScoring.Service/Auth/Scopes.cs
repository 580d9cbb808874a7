namespace HealthScoring.Service.Auth;

/// <summary>API key scopes (CONTRACT "Auth"). <c>admin</c> holds every other scope.</summary>
internal static class Scopes
{
    public const string Ingest = "ingest";
    public const string Read = "read";
    public const string Write = "write";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Ingest, Read, Write, Admin];

    public static bool IsKnown(string scope) => All.Contains(scope, StringComparer.Ordinal);
}

/// <summary>The caller behind a verified API key.</summary>
internal sealed record ApiKeyPrincipal(string Id, string Name, IReadOnlyList<string> Scopes)
{
    public bool HasScope(string scope) =>
        Scopes.Contains(Auth.Scopes.Admin, StringComparer.Ordinal) || Scopes.Contains(scope, StringComparer.Ordinal);
}
