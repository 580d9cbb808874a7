using System.Text.Json;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Ingestion;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Accounts;

internal sealed record UsageResponse(DateTime? FirstEventAt, DateTime? LastEventAt, long EventCount, double QuantityTotal, int ActiveUsers30d);

internal sealed record AccountResponse(
    string AccountId,
    string? Name,
    string? Segment,
    string? Plan,
    int? SeatsPurchased,
    double? Mrr,
    string? Currency,
    DateOnly? ContractStart,
    DateOnly? RenewalDate,
    string Status,
    DateTime? ChurnedAt,
    string? ChampionUserId,
    IReadOnlyList<Goal> Goals,
    IReadOnlyDictionary<string, JsonElement> Attributes,
    int? Score,
    string? Band,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    UsageResponse Usage)
{
    public static AccountResponse From(Account a) => new(
        a.AccountId, a.Crm.Name, a.Crm.Segment, a.Crm.Plan, a.Crm.SeatsPurchased, a.Crm.Mrr, a.Crm.Currency,
        a.Crm.ContractStart, a.Crm.RenewalDate, a.Crm.Status, a.Crm.ChurnedAt?.UtcDateTime, a.Crm.ChampionUserId,
        a.Crm.Goals, a.Crm.Attributes, a.Score, a.Band, a.CreatedAt.UtcDateTime, a.UpdatedAt.UtcDateTime,
        new UsageResponse(a.Usage.FirstEventAt?.UtcDateTime, a.Usage.LastEventAt?.UtcDateTime,
            a.Usage.EventCount, a.Usage.QuantityTotal, a.Usage.ActiveUsers30d));
}

/// <summary><c>/api/v1/accounts</c>: accounts as the CRM sees them, with their usage.</summary>
internal static class AccountsApi
{
    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/accounts").WithTags("Accounts");
        group.MapGet("/{accountId}", GetAsync).RequireAuthorization(Scopes.Read);
        group.MapPut("/{accountId}", PutAsync).RequireAuthorization(Scopes.Write);
        return routes;
    }

    private static async Task<Results<Ok<AccountResponse>, NotFound<ProblemDetails>>> GetAsync(
        string accountId, AccountRepository accounts, CancellationToken cancellationToken)
    {
        var account = IsValidId(accountId) ? await accounts.GetAsync(accountId, cancellationToken) : null;
        return account is null
            ? TypedResults.NotFound(NotFoundProblem(accountId))
            : TypedResults.Ok(AccountResponse.From(account));
    }

    private static async Task<Results<Ok<AccountResponse>, Created<AccountResponse>, ValidationProblem>> PutAsync(
        string accountId, JsonElement body, AccountRepository accounts, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!IsValidId(accountId))
        {
            errors["accountId"] = [$"must be 1-{EventValidator.MaxIdLength} characters without whitespace, control characters, '/', '?', '#', '%' or '\\'"];
        }

        var crm = AccountRequestParser.Parse(body, errors);
        if (errors.Count > 0 || crm is null)
        {
            return TypedResults.ValidationProblem(errors, detail: "The account was not stored: fix the fields listed in 'errors'.");
        }

        var created = await accounts.UpsertAsync(accountId, crm, cancellationToken);
        var account = AccountResponse.From((await accounts.GetAsync(accountId, cancellationToken))!);
        return created ? TypedResults.Created($"/api/v1/accounts/{Uri.EscapeDataString(accountId)}", account) : TypedResults.Ok(account);
    }

    internal static bool IsValidId(string accountId) =>
        accountId.Length is > 0 and <= EventValidator.MaxIdLength
        && !accountId.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '/' or '?' or '#' or '%' or '\\');

    internal static ProblemDetails NotFoundProblem(string accountId) => new()
    {
        Status = 404,
        Title = "Not Found",
        Detail = $"No account '{accountId}' is known: it exists from its first event or CRM upsert.",
    };
}
