using System.Globalization;
using System.Security.Claims;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Ingestion;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Health;

internal sealed record ScorecardRef(string Id, int Version);

internal sealed record TrendResponse(int? Delta7d, int? Delta30d);

internal sealed record MeasureResponse(string Key, string Metric, double? Value, double? Score, double Weight, double EffectiveWeight, string Explanation);

internal sealed record DimensionResponse(string Key, double? Score, double Weight, double EffectiveWeight, IReadOnlyList<MeasureResponse> Measures);

internal sealed record DriverResponse(string Measure, double Impact, string Explanation);

internal sealed record OverrideResponse(int? Score, string? Band, string Reason, DateTime ExpiresAt, string SetBy, DateTime SetAt);

internal sealed record HealthResponse(
    string AccountId,
    DateOnly AsOf,
    DateTime ComputedAt,
    int? Score,
    string? Band,
    ScorecardRef Scorecard,
    TrendResponse Trend,
    IReadOnlyList<DimensionResponse> Dimensions,
    IReadOnlyList<DriverResponse> Drivers,
    OverrideResponse? Override);

internal sealed record HistoryDimensions(double? Deployment, double? Engagement, double? Adoption, double? Roi);

internal sealed record HistoryEntry(DateOnly Date, int? Score, string? Band, HistoryDimensions Dimensions, ScorecardRef Scorecard);

[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
internal sealed record RescoreRequest(string[]? AccountIds, DateOnly? From);

internal sealed record RescoreResponse(int Accounts, DateOnly From);

[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
internal sealed record OverrideRequest(int? Score, string? Band, string? Reason, DateTimeOffset? ExpiresAt);

/// <summary>Health over REST: the score with its explanation, daily history, rescoring, CSM overrides.</summary>
internal static class HealthApi
{
    public const int MaxHistoryDays = 400;

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder routes)
    {
        var accounts = routes.MapGroup("/api/v1/accounts/{accountId}/health").WithTags("Health");
        accounts.MapGet("/", GetAsync).RequireAuthorization(Scopes.Read);
        accounts.MapGet("/history", HistoryAsync).RequireAuthorization(Scopes.Read);
        accounts.MapPut("/override", SetOverrideAsync).RequireAuthorization(Scopes.Write);
        accounts.MapDelete("/override", ClearOverrideAsync).RequireAuthorization(Scopes.Write);
        routes.MapPost("/api/v1/rescore", RescoreAsync).RequireAuthorization(Scopes.Admin).WithTags("Health");
        return routes;
    }

    private static async Task<Results<Ok<HealthResponse>, StoredJsonResult, NotFound<ProblemDetails>, ValidationProblem>> GetAsync(
        string accountId, string? asOf, HealthRepository health, AccountScorer scorer, IUsageStore usage, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var today = UtcDay.Of(now);
        var day = today;
        if (asOf is not null)
        {
            if (!DateOnly.TryParseExact(asOf, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["asOf"] = ["must be a date, YYYY-MM-DD"] });
            }

            day = UtcDay.FromDate(date);
            if (day > today)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["asOf"] = ["must not be in the future"] });
            }
        }

        if (!AccountsApi.IsValidId(accountId))
        {
            return TypedResults.NotFound(AccountsApi.NotFoundProblem(accountId));
        }

        // The override is shown only with today's score.
        var stored = await health.StoredAsync(accountId, now, cancellationToken);
        var active = day == today ? stored?.Override : null;
        if (stored is { Day: { } storedDay, Json: { } json } && storedDay == day)
        {
            // The hot path: the response was built when the score was saved.
            return new StoredJsonResult(HealthDocument.WithOverride(json, active));
        }

        // A past day (or a score not stored yet): computed on demand, as of that day, from every event acknowledged so far.
        await usage.ReadYourWritesAsync(accountId, cancellationToken);
        var computedAt = now;
        var result = await scorer.ScoreAsOfAsync(accountId, day, cancellationToken);
        if (result is null)
        {
            return TypedResults.NotFound(AccountsApi.NotFoundProblem(accountId));
        }

        var history = await health.HistoryAsync(accountId, day - HealthDocument.TrendDays.Max(), day, cancellationToken);
        var trend = HealthDocument.Trend(result.Score, day, d => history.FirstOrDefault(h => h.Day == d)?.Score is { } s ? (int)s : null);
        return TypedResults.Ok(HealthDocument.ToResponse(result, computedAt.UtcDateTime, trend, active is null ? null : HealthDocument.ToResponse(active)));
    }

    private static async Task<Results<Ok<HistoryEntry[]>, ValidationProblem>> HistoryAsync(
        string accountId, string? from, string? to, HealthRepository health, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var today = UtcDay.ToDate(UtcDay.Of(clock.GetUtcNow()));
        var toDate = ParseDate(to, "to", today, errors);
        var fromDate = ParseDate(from, "from", toDate.AddDays(-89), errors);
        if (errors.Count == 0 && fromDate > toDate)
        {
            errors["from"] = ["must not be after 'to'"];
        }
        else if (errors.Count == 0 && toDate.DayNumber - fromDate.DayNumber >= MaxHistoryDays)
        {
            errors["from"] = [$"at most {MaxHistoryDays} days per request"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var rows = await health.HistoryAsync(accountId, UtcDay.FromDate(fromDate), UtcDay.FromDate(toDate), cancellationToken);
        return TypedResults.Ok(rows.Select(r => new HistoryEntry(
            UtcDay.ToDate((int)r.Day), (int?)r.Score, r.Band,
            new HistoryDimensions(r.Deployment, r.Engagement, r.Adoption, r.Roi),
            new ScorecardRef(r.ScorecardId, (int)r.ScorecardVersion))).ToArray());
    }

    private static async Task<Results<Accepted<RescoreResponse>, ValidationProblem>> RescoreAsync(
        RescoreRequest? request, HealthRepository health, IUsageStore usage, ScoringOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var today = UtcDay.Of(clock.GetUtcNow());
        var from = request?.From is { } f ? UtcDay.FromDate(f) : today - options.HistoryDays;
        var errors = new Dictionary<string, string[]>();
        if (from > today)
        {
            errors["from"] = ["must not be in the future"];
        }

        if (request?.AccountIds is { Length: > 10_000 })
        {
            errors["accountIds"] = ["at most 10000 accounts per request; omit the list to rescore every account"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        from = Math.Max(from, today - options.HistoryDays);

        // Accounts known only from events acknowledged just before exist once those are folded.
        await usage.ReadYourWritesAsync(null, cancellationToken);
        var count = await health.RequestRescoreAsync(request?.AccountIds, from, cancellationToken);
        return TypedResults.Accepted("/api/v1/rescore", new RescoreResponse(count, UtcDay.ToDate(from)));
    }

    private static async Task<Results<Ok<OverrideResponse>, NotFound<ProblemDetails>, ValidationProblem>> SetOverrideAsync(
        string accountId, OverrideRequest request, HealthOverrideRepository overrides, IUsageStore usage, TimeProvider clock, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        if (request.Score is null && request.Band is null)
        {
            errors["score"] = ["give a score (0-100), a band (red, yellow, green), or both"];
        }

        if (request.Score is < 0 or > 100)
        {
            errors["score"] = ["must be 0 to 100"];
        }

        if (request.Band is not (null or "red" or "yellow" or "green"))
        {
            errors["band"] = ["must be red, yellow or green"];
        }

        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > 1000)
        {
            errors["reason"] = ["is required (at most 1000 characters): say why the computed score is wrong"];
        }

        if (request.ExpiresAt is not { } expires || expires <= now || expires > now.AddDays(365))
        {
            errors["expiresAt"] = ["is required: a time in the next 365 days"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var value = new HealthOverride(request.Score, request.Band, request.Reason!.Trim(), request.ExpiresAt!.Value.ToUniversalTime(),
            user.Identity?.Name ?? "unknown", now);
        await usage.ReadYourWritesAsync(accountId, cancellationToken); // an account first seen in events just acknowledged
        if (!await overrides.SetAsync(accountId, value, cancellationToken))
        {
            return TypedResults.NotFound(AccountsApi.NotFoundProblem(accountId));
        }

        return TypedResults.Ok(new OverrideResponse(value.Score, value.Band, value.Reason, value.ExpiresAt.UtcDateTime, value.SetBy, value.SetAt.UtcDateTime));
    }

    private static async Task<Results<NoContent, NotFound<ProblemDetails>>> ClearOverrideAsync(
        string accountId, HealthOverrideRepository overrides, CancellationToken cancellationToken) =>
        await overrides.ClearAsync(accountId, cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Not Found", Detail = $"Account '{accountId}' has no override." });

    private static DateOnly ParseDate(string? text, string name, DateOnly fallback, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return fallback;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        errors[name] = ["must be a date, YYYY-MM-DD"];
        return fallback;
    }
}
