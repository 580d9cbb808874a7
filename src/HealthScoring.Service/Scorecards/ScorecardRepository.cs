using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Storage;

namespace HealthScoring.Service.Scorecards;

/// <summary>A stored scorecard version with who made it and when.</summary>
internal sealed record ScorecardVersion(Scorecard Scorecard, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>Scorecards as data: every version kept; the highest version of an id is current.</summary>
internal sealed class ScorecardRepository(DbDataSource db, SqlDialect dialect, TimeProvider clock) : IStoreSeed
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = false,
    };

    public async Task<IReadOnlyList<ScorecardVersion>> ListCurrentAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            """
            SELECT v.id AS Id, v.version AS Version, v.body AS Body, v.created_at AS CreatedAt, v.created_by AS CreatedBy
            FROM scorecard_versions v
            WHERE v.version = (SELECT MAX(x.version) FROM scorecard_versions x WHERE x.id = v.id)
            ORDER BY v.id
            """, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToVersion()).ToList();
    }

    public async Task<ScorecardVersion?> GetAsync(string id, int? version, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            """
            SELECT id AS Id, version AS Version, body AS Body, created_at AS CreatedAt, created_by AS CreatedBy
            FROM scorecard_versions
            WHERE id = @id AND version = COALESCE(@version, (SELECT MAX(x.version) FROM scorecard_versions x WHERE x.id = @id))
            """, new { id, version }, cancellationToken: cancellationToken));
        return row?.ToVersion();
    }

    public async Task<IReadOnlyList<(int Version, DateTimeOffset CreatedAt, string CreatedBy)>> ListVersionsAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT id AS Id, version AS Version, '' AS Body, created_at AS CreatedAt, created_by AS CreatedBy FROM scorecard_versions WHERE id = @id ORDER BY version",
            new { id }, cancellationToken: cancellationToken));
        return rows.Select(r => ((int)r.Version, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt), r.CreatedBy)).ToList();
    }

    /// <summary>Stores the scorecard as the next version of its id and returns it with that version.</summary>
    public async Task<Scorecard> SaveAsync(Scorecard scorecard, string createdBy, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            $"SELECT MAX(version) FROM scorecard_versions {dialect.UpdateLock} WHERE id = @id",
            new { id = scorecard.Id }, transaction, cancellationToken: cancellationToken)) ?? 0;
        var saved = scorecard with { Version = (int)current + 1 };
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO scorecard_versions (id, version, body, created_at, created_by) VALUES (@Id, @Version, @Body, @At, @By)",
            new { saved.Id, saved.Version, Body = JsonSerializer.Serialize(saved, Json), At = clock.GetUtcNow().ToUnixTimeMilliseconds(), By = createdBy },
            transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return saved;
    }

    /// <summary>The shipped default DEAR scorecard, stored as version 1 on a new store.</summary>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (await GetAsync(Scorecard.DefaultId, null, cancellationToken) is null)
        {
            await SaveAsync(DefaultScorecard.Create(), "system", cancellationToken);
        }
    }

    private sealed class Row
    {
        public string Id { get; init; } = "";
        public long Version { get; init; }
        public string Body { get; init; } = "";
        public long CreatedAt { get; init; }
        public string CreatedBy { get; init; } = "";

        public ScorecardVersion ToVersion() => new(
            JsonSerializer.Deserialize<Scorecard>(Body, Json)! with { Version = (int)Version },
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            CreatedBy);
    }
}
