using HealthScoring.Scoring.Risk;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Risk;

internal sealed record RiskFlagPage(IReadOnlyList<RiskFlagView> Items, string? NextCursor);

/// <summary>Risk flags over REST: one account's, and the whole book's with filters and cursor paging.</summary>
internal static class RiskApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapRiskApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/accounts/{accountId}/risk-flags", AccountFlagsAsync).RequireAuthorization(Scopes.Read).WithTags("Risk");
        routes.MapGet("/api/v1/risk-flags", ListAsync).RequireAuthorization(Scopes.Read).WithTags("Risk");
        return routes;
    }

    /// <summary>An account's flags, newest first: the active ones (default) or all, cleared ones included.</summary>
    private static async Task<Results<Ok<RiskFlagPage>, NotFound<ProblemDetails>, ValidationProblem>> AccountFlagsAsync(
        string accountId, string? state, AccountRepository accounts, RiskFlagRepository flags, IUsageStore usage, CancellationToken cancellationToken)
    {
        if (state is not (null or "active" or "all"))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["state"] = ["must be 'active' or 'all'"] });
        }

        if (!AccountsApi.IsValidId(accountId))
        {
            return TypedResults.NotFound(AccountsApi.NotFoundProblem(accountId));
        }

        await usage.ReadYourWritesAsync(accountId, cancellationToken); // it may exist from events just acknowledged
        if (await accounts.GetAsync(accountId, cancellationToken) is null)
        {
            return TypedResults.NotFound(AccountsApi.NotFoundProblem(accountId));
        }

        var items = await flags.ListAsync(new RiskFlagQuery(accountId, null, null, state == "all" ? null : true, null, null, MaxLimit), cancellationToken);
        return TypedResults.Ok(new RiskFlagPage(items.Select(RiskFlagView.From).ToList(), null));
    }

    /// <summary>
    /// Flags across accounts, newest first. <c>state</c>: active (default), cleared or all; <c>raisedSince</c>: a
    /// date or an RFC 3339 time; <c>cursor</c>: the <c>nextCursor</c> of the previous page.
    /// </summary>
    private static async Task<Results<Ok<RiskFlagPage>, ValidationProblem>> ListAsync(
        string? type, string? severity, string? state, string? raisedSince, string? cursor, int? limit,
        RiskFlagRepository flags, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (type is not null && !RiskRules.Defaults.ContainsKey(type))
        {
            errors["type"] = [$"unknown risk flag type; known: {string.Join(", ", RiskRules.All)}"];
        }

        if (severity is not null && !RiskRules.Severities.Contains(severity))
        {
            errors["severity"] = ["must be low, medium or high"];
        }

        if (state is not (null or "active" or "cleared" or "all"))
        {
            errors["state"] = ["must be active, cleared or all"];
        }

        long? since = raisedSince is null ? null : RestQuery.ParseTimeMs(raisedSince);
        if (raisedSince is not null && since is null)
        {
            errors["raisedSince"] = ["must be a date (YYYY-MM-DD) or an RFC 3339 time"];
        }

        (long, string)? after = null;
        if (cursor is not null)
        {
            after = RestQuery.DecodeCursor(cursor, 64);
            if (after is null)
            {
                errors["cursor"] = ["is not a cursor this service returned"];
            }
        }

        if (limit is < 1 or > MaxLimit)
        {
            errors["limit"] = [$"must be 1 to {MaxLimit}"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var take = limit ?? DefaultLimit;
        bool? active = state switch { "all" => null, "cleared" => false, _ => true };
        var items = await flags.ListAsync(new RiskFlagQuery(null, type, severity, active, since, after, take + 1), cancellationToken);
        var page = items.Take(take).ToList();
        var next = items.Count > take ? RestQuery.EncodeCursor(page[^1].RaisedDay, page[^1].Id) : null;
        return TypedResults.Ok(new RiskFlagPage(page.Select(RiskFlagView.From).ToList(), next));
    }
}
