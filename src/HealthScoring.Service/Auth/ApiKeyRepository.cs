using System.Data.Common;
using Dapper;

namespace HealthScoring.Service.Auth;

/// <summary>A stored API key, without its secret (only the hash is kept).</summary>
internal sealed record ApiKeyInfo(string Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt);

/// <summary>API keys, stored as SHA-256 hashes. Portable SQL: the same statements run on SQLite and SQL Server.</summary>
internal sealed class ApiKeyRepository(DbDataSource db, TimeProvider clock)
{
    public async Task<ApiKeyInfo> CreateAsync(string name, IReadOnlyList<string> scopes, byte[] keyHash, CancellationToken cancellationToken)
    {
        var id = ApiKeySecret.NewId();
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO api_keys (id, name, key_hash, scopes, created_at) VALUES (@id, @name, @keyHash, @scopes, @createdAt)",
            new { id, name, keyHash, scopes = string.Join(' ', scopes), createdAt = now.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
        return new ApiKeyInfo(id, name, scopes, DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds()));
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListActiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT id, name, scopes, created_at AS createdAt FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id",
            cancellationToken: cancellationToken));
        return rows.Select(r => new ApiKeyInfo(r.Id, r.Name, SplitScopes(r.Scopes), DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt))).ToList();
    }

    public async Task<bool> AnyActiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL", cancellationToken: cancellationToken)) > 0;
    }

    public async Task<ApiKeyPrincipal?> FindActiveByHashAsync(byte[] keyHash, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT id, name, scopes, created_at AS createdAt FROM api_keys WHERE key_hash = @keyHash AND revoked_at IS NULL",
            new { keyHash }, cancellationToken: cancellationToken));
        return row is null ? null : new ApiKeyPrincipal(row.Id, row.Name, SplitScopes(row.Scopes));
    }

    /// <summary>Revokes a key (kept for the record, never valid again). False when no active key has that id.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE api_keys SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL",
            new { id, now = clock.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)) > 0;
    }

    private static string[] SplitScopes(string scopes) => scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private sealed record Row(string Id, string Name, string Scopes, long CreatedAt);
}
