using Microsoft.AspNetCore.Http.HttpResults;

namespace HealthScoring.Service.Auth;

internal sealed record CreateApiKeyRequest(string? Name, string[]? Scopes);

internal sealed record ApiKeyResponse(string Id, string Name, IReadOnlyList<string> Scopes, DateTime CreatedAt);

internal sealed record CreatedApiKeyResponse(string Id, string Name, IReadOnlyList<string> Scopes, DateTime CreatedAt, string Key);

/// <summary><c>/api/v1/api-keys</c> (admin): create (the secret is shown once), list, revoke.</summary>
internal static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/api-keys").RequireAuthorization(Scopes.Admin).WithTags("API keys");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapDelete("/{id}", DeleteAsync);
        return routes;
    }

    private static async Task<Results<Created<CreatedApiKeyResponse>, ValidationProblem>> CreateAsync(
        CreateApiKeyRequest request, ApiKeyRepository keys, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > 200)
        {
            errors["name"] = ["is required, 1 to 200 characters"];
        }

        var scopes = request.Scopes ?? [];
        if (scopes.Length == 0)
        {
            errors["scopes"] = [$"at least one of: {string.Join(", ", Scopes.All)}"];
        }
        else if (scopes.FirstOrDefault(s => !Scopes.IsKnown(s)) is { } unknown)
        {
            errors["scopes"] = [$"unknown scope '{unknown}'; known: {string.Join(", ", Scopes.All)}"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var secret = ApiKeySecret.New();
        var distinct = scopes.Distinct(StringComparer.Ordinal).ToArray();
        var info = await keys.CreateAsync(name, distinct, ApiKeySecret.Hash(secret), cancellationToken);
        return TypedResults.Created($"/api/v1/api-keys/{info.Id}",
            new CreatedApiKeyResponse(info.Id, info.Name, info.Scopes, info.CreatedAt.UtcDateTime, secret));
    }

    private static async Task<Ok<ApiKeyResponse[]>> ListAsync(ApiKeyRepository keys, CancellationToken cancellationToken) =>
        TypedResults.Ok((await keys.ListActiveAsync(cancellationToken))
            .Select(k => new ApiKeyResponse(k.Id, k.Name, k.Scopes, k.CreatedAt.UtcDateTime)).ToArray());

    private static async Task<Results<NoContent, NotFound<Microsoft.AspNetCore.Mvc.ProblemDetails>>> DeleteAsync(
        string id, ApiKeyRepository keys, IApiKeyAuthenticator authenticator, CancellationToken cancellationToken)
    {
        if (!await keys.RevokeAsync(id, cancellationToken))
        {
            return TypedResults.NotFound(new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 404, Title = "Not Found", Detail = $"No active API key has the id '{id}'.",
            });
        }

        authenticator.Invalidate();
        return TypedResults.NoContent();
    }
}
