using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Health;
using HealthScoring.Service.Ingestion;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Scorecards;

internal sealed record ScorecardVersionInfo(int Version, DateTime CreatedAt, string CreatedBy);

/// <summary><c>/api/v1/scorecards</c> (admin): scorecards as data, validated and versioned; a change rescores.</summary>
internal static class ScorecardsApi
{
    public const int MaxBodyCharacters = 256 * 1024;

    public static IEndpointRouteBuilder MapScorecardsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/scorecards").WithTags("Scorecards").RequireAuthorization(Scopes.Admin);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapGet("/{id}/versions", VersionsAsync);
        group.MapPut("/{id}", PutAsync);
        return routes;
    }

    private static async Task<Ok<Scorecard[]>> ListAsync(ScorecardRepository scorecards, CancellationToken cancellationToken) =>
        TypedResults.Ok((await scorecards.ListCurrentAsync(cancellationToken)).Select(v => v.Scorecard).ToArray());

    private static async Task<Results<Ok<Scorecard>, NotFound<ProblemDetails>>> GetAsync(
        string id, int? version, ScorecardRepository scorecards, CancellationToken cancellationToken) =>
        await scorecards.GetAsync(id, version, cancellationToken) is { } found
            ? TypedResults.Ok(found.Scorecard)
            : TypedResults.NotFound(NotFound(id, version));

    private static async Task<Results<Ok<ScorecardVersionInfo[]>, NotFound<ProblemDetails>>> VersionsAsync(
        string id, ScorecardRepository scorecards, CancellationToken cancellationToken)
    {
        var versions = await scorecards.ListVersionsAsync(id, cancellationToken);
        return versions.Count == 0
            ? TypedResults.NotFound(NotFound(id, null))
            : TypedResults.Ok(versions.Select(v => new ScorecardVersionInfo(v.Version, v.CreatedAt.UtcDateTime, v.CreatedBy)).ToArray());
    }

    private static async Task<Results<Ok<Scorecard>, ValidationProblem>> PutAsync(
        string id, JsonElement body, ScorecardRepository scorecards, ScorecardCatalog catalog, HealthRepository health,
        TimeProvider clock, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var (scorecard, errors) = Parse(id, body);
        if (scorecard is not null)
        {
            errors = ScorecardValidator.Validate(scorecard).ToDictionary(e => e.Key, e => e.Value);
        }

        if (errors.Count > 0 || scorecard is null)
        {
            return TypedResults.ValidationProblem(errors, detail: "The scorecard was not stored: fix the fields listed in 'errors'.");
        }

        var saved = await scorecards.SaveAsync(scorecard, user.Identity?.Name ?? "unknown", cancellationToken);
        catalog.Invalidate();
        // Any account may move to or from this scorecard: today's score of every account is recomputed.
        await health.RequestRescoreAsync(null, UtcDay.Of(clock.GetUtcNow()), cancellationToken);
        return TypedResults.Ok(saved);
    }

    private static (Scorecard? Scorecard, Dictionary<string, string[]> Errors) Parse(string id, JsonElement body)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors[""] = ["the body must be a scorecard JSON object"];
            return (null, errors);
        }

        var node = JsonNode.Parse(body.GetRawText())!.AsObject();
        if (node["id"] is { } bodyId && bodyId.GetValueKind() == JsonValueKind.String && bodyId.GetValue<string>() != id)
        {
            errors["id"] = [$"'{bodyId}' differs from the id in the path, '{id}'"];
            return (null, errors);
        }

        node["id"] = id;
        node.Remove("version"); // assigned by the server
        try
        {
            return (node.Deserialize<Scorecard>(ScorecardRepository.Json), errors);
        }
        catch (JsonException ex)
        {
            errors[ex.Path?.TrimStart('$', '.') ?? ""] = [ex.Message];
            return (null, errors);
        }
    }

    private static ProblemDetails NotFound(string id, int? version) => new()
    {
        Status = 404,
        Title = "Not Found",
        Detail = version is null ? $"No scorecard '{id}'." : $"Scorecard '{id}' has no version {version}.",
    };
}
