using System.Globalization;
using System.Text;
using HealthScoring.Service.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace HealthScoring.Service.Cohorts;

internal sealed record CohortsResponse(string Interval, DateTime AsOf, IReadOnlyList<CohortResponse> Cohorts, IReadOnlyList<WeightedPeriod> WeightedAverage);

internal sealed record CohortResponse(string Cohort, DateOnly Start, int Accounts, double StartingMrr, CohortHealth Health, IReadOnlyList<CohortPeriod> Periods);

/// <summary><c>GET /api/v1/cohorts/churn</c>: churn and retention by cohort, next to each cohort's current health; JSON or CSV.</summary>
internal static class CohortsApi
{
    public static IEndpointRouteBuilder MapCohortsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/cohorts/churn", GetAsync).RequireAuthorization(Scopes.Read).WithTags("Cohorts")
            .Produces<CohortsResponse>(200, "application/json", "text/csv");
        return routes;
    }

    private static async Task<Results<Ok<CohortsResponse>, ContentHttpResult, ValidationProblem>> GetAsync(
        HttpRequest request, string? interval, string? from, string? to, string? segment, string? plan,
        CohortRepository repository, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var kind = interval switch
        {
            null or "month" => CohortInterval.Month,
            "quarter" => CohortInterval.Quarter,
            _ => (CohortInterval?)null,
        };
        if (kind is null)
        {
            errors["interval"] = ["must be 'month' or 'quarter'"];
        }

        var fromDay = Month(from, "from", errors);
        var toDay = Month(to, "to", errors);
        if (segment is { Length: > 100 })
        {
            errors["segment"] = ["at most 100 characters"];
        }

        if (plan is { Length: > 100 })
        {
            errors["plan"] = ["at most 100 characters"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = clock.GetUtcNow();
        var accounts = await repository.LoadAsync(segment, plan, cancellationToken);
        var first = fromDay is { } f ? CohortTable.PeriodStart(f, kind!.Value) : DateOnly.MinValue;
        var last = toDay ?? DateOnly.MaxValue;
        var (cohorts, weighted) = CohortTable.Build(
            accounts.Where(a => CohortTable.PeriodStart(a.Start, kind!.Value) >= first && a.Start <= last).ToList(), kind!.Value, now);

        if (WantsCsv(request))
        {
            return TypedResults.Content(ToCsv(cohorts, weighted), "text/csv; charset=utf-8");
        }

        return TypedResults.Ok(new CohortsResponse(
            kind == CohortInterval.Month ? "month" : "quarter",
            now.UtcDateTime,
            cohorts.Select(c => new CohortResponse(c.Label, c.Start, c.Accounts, c.StartingMrr, c.Health, c.Periods)).ToList(),
            weighted));
    }

    private static bool WantsCsv(HttpRequest request) =>
        request.Query["format"] == "csv"
        || (MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accept) && accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase)));

    /// <summary>YYYY-MM or YYYY-MM-DD.</summary>
    private static DateOnly? Month(string? text, string name, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyy-MM"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day;
        }

        errors[name] = ["must be a month (YYYY-MM) or a date (YYYY-MM-DD)"];
        return null;
    }

    /// <summary>One row per cohort and period (tidy: what a data team loads into a dataframe), then the weighted averages.</summary>
    internal static string ToCsv(IReadOnlyList<Cohort> cohorts, IReadOnlyList<WeightedPeriod> weighted)
    {
        static string N(double? v) => v is { } x ? x.ToString("0.######", CultureInfo.InvariantCulture) : "";
        var csv = new StringBuilder();
        csv.Append("cohort,cohortStart,accounts,startingMrr,averageHealth,redShare,yellowShare,greenShare,")
            .Append("offset,periodEnd,complete,retainedAccounts,logoRetention,grossRevenueRetention,netRevenueRetention,mrr\n");
        foreach (var c in cohorts)
        {
            foreach (var p in c.Periods)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{c.Label},{c.Start:yyyy-MM-dd},{c.Accounts},{N(c.StartingMrr)},{N(c.Health.AverageScore)},")
                    .Append(CultureInfo.InvariantCulture, $"{N(c.Health.Red)},{N(c.Health.Yellow)},{N(c.Health.Green)},")
                    .Append(CultureInfo.InvariantCulture, $"{p.Offset},{p.End:yyyy-MM-dd},{(p.Complete ? "true" : "false")},{p.RetainedAccounts},")
                    .Append(CultureInfo.InvariantCulture, $"{N(p.LogoRetention)},{N(p.GrossRevenueRetention)},{N(p.NetRevenueRetention)},{N(p.Mrr)}\n");
            }
        }

        foreach (var w in weighted)
        {
            csv.Append(CultureInfo.InvariantCulture, $"weighted average,,{w.Accounts},,,,,,{w.Offset},,true,{w.RetainedAccounts},")
                .Append(CultureInfo.InvariantCulture, $"{N(w.LogoRetention)},{N(w.GrossRevenueRetention)},{N(w.NetRevenueRetention)},\n");
        }

        return csv.ToString();
    }
}
