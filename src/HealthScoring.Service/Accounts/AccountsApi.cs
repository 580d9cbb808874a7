using System.Text.Json;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Hosting;
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

/// <summary>A page of a bulk pull; <see cref="NextUpdatedSince"/> is the same on every page of one pull.</summary>
internal sealed record PortfolioPage(IReadOnlyList<PortfolioItem> Items, string? NextCursor, DateTime NextUpdatedSince);

/// <summary><c>/api/v1/accounts</c>: accounts as the CRM sees them, with their usage.</summary>
internal static class AccountsApi
{
    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/accounts").WithTags("Accounts");
        group.MapGet("/", ListAsync).RequireAuthorization(Scopes.Read);
        group.MapGet("/{accountId}", GetAsync).RequireAuthorization(Scopes.Read);
        group.MapPut("/{accountId}", PutAsync).RequireAuthorization(Scopes.Write);
        return routes;
    }

    public const int MaxPageSize = 1000;

    /// <summary>
    /// How far before a pull's start <c>nextUpdatedSince</c> is set: a scoring transaction that stamped its changes
    /// just before the pull began may commit just after; the overlap makes sure the next pull sees it.
    /// </summary>
    public static readonly TimeSpan SyncOverlap = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The book of business for bulk pulls, in account-id order with a keyset cursor: each account at most once per
    /// pull however scores change meanwhile. With <c>updatedSince</c>: every account whose score, band or flags
    /// changed since then; the next incremental pull passes this pull's <c>nextUpdatedSince</c>.
    /// </summary>
    private static async Task<Results<Ok<PortfolioPage>, ValidationProblem>> ListAsync(
        string? band, string? segment, string? plan, string? riskFlag, int? minScore, int? maxScore, string? updatedSince, string? cursor, int? limit,
        PortfolioRepository portfolio, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (band is not (null or "red" or "yellow" or "green"))
        {
            errors["band"] = ["must be red, yellow or green"];
        }

        if (riskFlag is not null && !HealthScoring.Scoring.Risk.RiskRules.Defaults.ContainsKey(riskFlag))
        {
            errors["riskFlag"] = [$"unknown risk flag type; known: {string.Join(", ", HealthScoring.Scoring.Risk.RiskRules.All)}"];
        }

        if (segment is { Length: > 100 } || plan is { Length: > 100 })
        {
            errors[segment is { Length: > 100 } ? "segment" : "plan"] = ["at most 100 characters"];
        }

        if (minScore is < 0 or > 100 || maxScore is < 0 or > 100 || minScore > maxScore)
        {
            errors["minScore"] = ["minScore and maxScore must be 0-100, minScore <= maxScore"];
        }

        if (limit is < 1 or > MaxPageSize)
        {
            errors["limit"] = [$"must be 1 to {MaxPageSize}"];
        }

        long? since = updatedSince is null ? null : RestQuery.ParseTimeMs(updatedSince);
        if (updatedSince is not null && since is null)
        {
            errors["updatedSince"] = ["must be an RFC 3339 time or a date (YYYY-MM-DD)"];
        }

        var started = clock.GetUtcNow().ToUnixTimeMilliseconds();
        string? after = null;
        if (cursor is not null)
        {
            // The cursor carries when the pull began (for nextUpdatedSince) and the last account served.
            if (RestQuery.DecodeCursor(cursor, EventValidator.MaxIdLength) is { } decoded)
            {
                (started, after) = decoded;
            }
            else
            {
                errors["cursor"] = ["is not a cursor this service returned"];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var take = limit ?? 100;
        var rows = await portfolio.ListAsync(new PortfolioQuery(band, segment, plan, riskFlag, minScore, maxScore, since, after, take + 1), cancellationToken);
        var page = rows.Take(take).ToList();
        return TypedResults.Ok(new PortfolioPage(
            page,
            rows.Count > take ? RestQuery.EncodeCursor(started, page[^1].AccountId) : null,
            DateTimeOffset.FromUnixTimeMilliseconds(started).Subtract(SyncOverlap).UtcDateTime));
    }

    /// <summary>
    /// The account with its usage. Usage reflects every event acknowledged before the request (read-your-writes):
    /// when some of the account's are still being folded into the aggregates, the read waits for them, up to
    /// <see cref="UsageStoreReads.FoldWait"/> (then it serves the totals as they are).
    /// </summary>
    private static async Task<Results<Ok<AccountResponse>, NotFound<ProblemDetails>>> GetAsync(
        string accountId, AccountRepository accounts, IUsageStore usage, CancellationToken cancellationToken)
    {
        if (!IsValidId(accountId))
        {
            return TypedResults.NotFound(NotFoundProblem(accountId));
        }

        await usage.ReadYourWritesAsync(accountId, cancellationToken);
        var account = await accounts.GetAsync(accountId, cancellationToken);
        return account is null
            ? TypedResults.NotFound(NotFoundProblem(accountId))
            : TypedResults.Ok(AccountResponse.From(account));
    }

    private static async Task<Results<Ok<AccountResponse>, Created<AccountResponse>, ValidationProblem>> PutAsync(
        string accountId, JsonElement body, AccountRepository accounts, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!IsValidId(accountId))
        {
            errors["accountId"] = [$"must be 1-{EventValidator.MaxIdLength} characters without whitespace, control characters, '/', '?', '#', '%' or '\\'"];
        }

        var crm = AccountRequestParser.Parse(body, errors);
        if (crm?.EffectiveAt > clock.GetUtcNow().AddMinutes(5))
        {
            errors["effectiveAt"] = ["must not be in the future"];
        }

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
