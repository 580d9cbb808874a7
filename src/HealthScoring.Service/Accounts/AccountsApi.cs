using HealthScoring.Service.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Accounts;

internal sealed record UsageResponse(DateTime? FirstEventAt, DateTime? LastEventAt, long EventCount, double QuantityTotal, int ActiveUsers30d);

internal sealed record AccountResponse(string AccountId, DateTime CreatedAt, DateTime UpdatedAt, UsageResponse Usage)
{
    public static AccountResponse From(Account a) => new(
        a.AccountId,
        a.CreatedAt.UtcDateTime,
        a.UpdatedAt.UtcDateTime,
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
        return routes;
    }

    private static async Task<Results<Ok<AccountResponse>, NotFound<ProblemDetails>>> GetAsync(
        string accountId, AccountRepository accounts, CancellationToken cancellationToken)
    {
        var account = accountId.Length <= Ingestion.EventValidator.MaxIdLength
            ? await accounts.GetAsync(accountId, cancellationToken)
            : null;
        return account is null
            ? TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Not Found", Detail = $"No account '{accountId}' is known: it exists from its first event or CRM upsert." })
            : TypedResults.Ok(AccountResponse.From(account));
    }
}
