namespace HealthScoring.Service.Cohorts;

/// <summary>Monthly or quarterly cohorts.</summary>
internal enum CohortInterval
{
    Month,
    Quarter,
}

/// <summary>An MRR/status change of an account, from the CRM time series (Unix ms).</summary>
internal readonly record struct MrrChange(long At, double? Mrr, bool Churned);

/// <summary>What the cohort table needs of one account.</summary>
internal sealed record CohortAccount(
    string AccountId, DateOnly Start, double? CurrentMrr, long? ChurnedAtMs, int? Score, string? Band, IReadOnlyList<MrrChange> Changes);

internal sealed record CohortPeriod(
    int Offset, DateOnly End, bool Complete, int RetainedAccounts, double LogoRetention, double? GrossRevenueRetention, double? NetRevenueRetention, double Mrr);

internal sealed record CohortHealth(double? AverageScore, int Scored, double Red, double Yellow, double Green);

internal sealed record Cohort(string Label, DateOnly Start, int Accounts, double StartingMrr, CohortHealth Health, IReadOnlyList<CohortPeriod> Periods);

internal sealed record WeightedPeriod(int Offset, int Cohorts, int Accounts, int RetainedAccounts, double LogoRetention, double? GrossRevenueRetention, double? NetRevenueRetention);

/// <summary>
/// Cohort churn and retention, lagging and leading side by side. An account's cohort is the period of its contract
/// start (else its first event). Period <c>k</c> of a cohort ends <c>k + 1</c> intervals after the cohort's start; at
/// each end, per account: retained = not churned by then; MRR(t) = the MRR of its latest change at or before t (its
/// first known MRR before any), 0 once churned. Starting MRR = each account's first known MRR.
/// <list type="bullet">
/// <item>logo retention = retained accounts / cohort accounts (logo churn = 1 - it)</item>
/// <item>gross revenue retention (GRR) = sum of min(MRR(t), starting MRR) / sum of starting MRR: churn and
/// contraction count, expansion does not</item>
/// <item>net revenue retention (NRR) = sum of MRR(t) / sum of starting MRR: expansion counts too</item>
/// </list>
/// A period whose end is after now is not complete: it is shown (marked) for the current period and omitted after.
/// The weighted average of an offset is over the cohorts whose period is complete: retained / accounts summed over
/// them (weighted by cohort size), and the revenue sums over them (weighted by starting MRR).
/// </summary>
internal static class CohortTable
{
    public static DateOnly PeriodStart(DateOnly day, CohortInterval interval) => interval == CohortInterval.Month
        ? new DateOnly(day.Year, day.Month, 1)
        : new DateOnly(day.Year, ((day.Month - 1) / 3 * 3) + 1, 1);

    public static DateOnly Add(DateOnly periodStart, CohortInterval interval, int periods) =>
        periodStart.AddMonths(interval == CohortInterval.Month ? periods : 3 * periods);

    public static string Label(DateOnly start, CohortInterval interval) => interval == CohortInterval.Month
        ? start.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture)
        : $"{start.Year}-Q{((start.Month - 1) / 3) + 1}";

    public static (IReadOnlyList<Cohort> Cohorts, IReadOnlyList<WeightedPeriod> Weighted) Build(
        IReadOnlyList<CohortAccount> accounts, CohortInterval interval, DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var groups = accounts.GroupBy(a => PeriodStart(a.Start, interval)).OrderBy(g => g.Key).ToList();
        var built = new Cohort[groups.Count];
        // Cohorts are independent: built in parallel (a large book has tens of them).
        Parallel.For(0, groups.Count, g =>
        {
            var members = groups[g].ToList();
            var starting = members.Select(StartingMrr).ToArray();
            var startingTotal = starting.Sum();
            var periods = new List<CohortPeriod>();
            for (var k = 0; ; k++)
            {
                var end = Add(groups[g].Key, interval, k + 1);
                var endMs = new DateTimeOffset(end, TimeOnly.MinValue, TimeSpan.Zero).ToUnixTimeMilliseconds();
                var complete = endMs <= nowMs;
                // The current period is measured as of now.
                var at = complete ? endMs - 1 : nowMs;
                int retained = 0;
                double mrr = 0, gross = 0;
                for (var i = 0; i < members.Count; i++)
                {
                    var (alive, value) = MrrAt(members[i], starting[i], at);
                    retained += alive ? 1 : 0;
                    mrr += value;
                    gross += Math.Min(value, starting[i]);
                }

                periods.Add(new CohortPeriod(k, end, complete, retained, retained / (double)members.Count,
                    startingTotal > 0 ? gross / startingTotal : null, startingTotal > 0 ? mrr / startingTotal : null, mrr));
                if (!complete)
                {
                    break;
                }
            }

            built[g] = new Cohort(Label(groups[g].Key, interval), groups[g].Key, members.Count, startingTotal, Health(members, nowMs), periods);
        });
        var cohorts = built.ToList();

        var weighted = cohorts.SelectMany(c => c.Periods.Where(p => p.Complete).Select(p => (Cohort: c, Period: p)))
            .GroupBy(x => x.Period.Offset)
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var accountsTotal = g.Sum(x => x.Cohort.Accounts);
                var retained = g.Sum(x => x.Period.RetainedAccounts);
                var startingTotal = g.Sum(x => x.Cohort.StartingMrr);
                var gross = g.Sum(x => (x.Period.GrossRevenueRetention ?? 0) * x.Cohort.StartingMrr);
                var net = g.Sum(x => x.Period.Mrr);
                return new WeightedPeriod(g.Key, g.Count(), accountsTotal, retained, retained / (double)accountsTotal,
                    startingTotal > 0 ? gross / startingTotal : null, startingTotal > 0 ? net / startingTotal : null);
            })
            .ToList();
        return (cohorts, weighted);
    }

    /// <summary>The first MRR known for the account (its earliest change with an MRR, else its current MRR), 0 if none.</summary>
    private static double StartingMrr(CohortAccount a)
    {
        foreach (var change in a.Changes)
        {
            if (change.Mrr is { } mrr)
            {
                return mrr;
            }
        }

        return a.CurrentMrr ?? 0;
    }

    /// <summary>Whether the account is still a customer at <paramref name="atMs"/>, and its MRR then.</summary>
    private static (bool Alive, double Mrr) MrrAt(CohortAccount a, double starting, long atMs)
    {
        if (a.ChurnedAtMs is { } churned && churned <= atMs)
        {
            return (false, 0);
        }

        var mrr = starting;
        var churnedByChange = false;
        foreach (var change in a.Changes)
        {
            if (change.At > atMs)
            {
                break;
            }

            churnedByChange = change.Churned;
            mrr = change.Mrr ?? mrr;
        }

        return churnedByChange ? (false, 0) : (true, mrr);
    }

    /// <summary>The leading signal: current health of the cohort's accounts that are still customers.</summary>
    private static CohortHealth Health(IReadOnlyList<CohortAccount> members, long nowMs)
    {
        var live = members.Where(m => m.Score is not null && (m.ChurnedAtMs is null || m.ChurnedAtMs > nowMs)).ToList();
        if (live.Count == 0)
        {
            return new CohortHealth(null, 0, 0, 0, 0);
        }

        double Share(string band) => live.Count(m => m.Band == band) / (double)live.Count;
        return new CohortHealth(Math.Round(live.Average(m => m.Score!.Value), 1), live.Count, Share("red"), Share("yellow"), Share("green"));
    }
}
