using System.Text.Json;
using HealthScoring.Scoring.Engine;
using HealthScoring.Scoring.Metrics;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Health;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Tests.Infrastructure;
using HealthScoring.Service.Tests.Storage;

namespace HealthScoring.Service.Tests.Health;

/// <summary>
/// The scorer loads only the rows its measures read (AccountScorer.Plan). Whatever it leaves out must not change
/// a single score: on random usage over 420 days, scoring from the planned load equals scoring from every row.
/// </summary>
public sealed class LoadPlanEquivalenceTests
{
    internal static readonly DateTimeOffset Now = new(2026, 9, 30, 15, 0, 0, TimeSpan.Zero);

    [TestCase(0)]
    [TestCase(41)]
    [TestCase(301)]
    public async Task PlannedLoad_ScoresExactlyLikeTheFullLoad(int daysBack)
    {
        await using var store = await TestStore.CreateAsync(StoreProvider.Sqlite);
        var accounts = await SeedAsync(store);
        var scorecards = Scorecards();
        var health = new HealthRepository(store.Db, new SqlDialect(StoreProvider.Sqlite));
        var today = UtcDay.Of(Now);
        var from = today - daysBack;

        var planned = await health.LoadManyAsync(accounts, AccountScorer.Plan(scorecards, from, today), CancellationToken.None);
        var full = await health.LoadManyAsync(accounts, from - 800, today, withFirstSeen: true, CancellationToken.None);

        foreach (var account in accounts)
        {
            for (var day = from; day <= today; day++)
            {
                Assert.That(Score(scorecards, planned[account], day), Is.EqualTo(Score(scorecards, full[account], day)), $"{account} on day {day}");
            }
        }
    }

    internal static string Score(IReadOnlyList<Scorecard> scorecards, ScoringInputs inputs, int day)
    {
        var asOf = UtcDay.ToDate(day);
        var result = ScoringEngine.Score(ScorecardSelector.Select(scorecards, inputs.Facts, asOf), inputs.Facts, inputs.Usage, asOf);
        return JsonSerializer.Serialize(result);
    }

    internal static List<Scorecard> Scorecards()
    {
        var shipped = DefaultScorecard.Create() with
        {
            KeyFeatures = ["report", "export", "share"],
            OnboardingMilestones = ["onboard.start", "onboard.done"],
        };
        var named = shipped with
        {
            Id = "named",
            AppliesTo = new SegmentRule { Segments = ["named"] },
            Dimensions = shipped.Dimensions.Select(d => d.Key != DimensionKeys.Adoption ? d : d with
            {
                Measures =
                [
                    .. d.Measures,
                    new MeasureDefinition { Key = "invoices", Metric = MetricNames.EventCount, EventName = "invoice", WindowDays = 200, Scoring = ScoringFunction.LinearBetween(0, 50) },
                    new MeasureDefinition { Key = "invoice_value", Metric = MetricNames.Quantity, EventName = "invoice", WindowDays = 300, Scoring = ScoringFunction.LinearBetween(0, 500) },
                    new MeasureDefinition { Key = "all_events", Metric = MetricNames.EventCount, WindowDays = 90, Scoring = ScoringFunction.LinearBetween(0, 300) },
                ],
            }).ToList(),
        };
        return [shipped, named];
    }

    /// <summary>Six accounts with random usage (fractional quantities, NPS answers, idle stretches) and goals.</summary>
    internal static async Task<List<string>> SeedAsync(TestStore store)
    {
        var random = new Random(20261123);
        string[] names = ["login", "report", "export", "share", "nps", "invoice", "onboard.start", "onboard.done", "misc"];
        var writer = store.NewUsageStore();
        var crm = new AccountRepository(store.Db, new SqlDialect(StoreProvider.Sqlite), new FakeClock(Now));
        var accounts = new List<string>();
        for (var a = 0; a < 6; a++)
        {
            var account = $"eq-{a}";
            accounts.Add(account);
            var events = new List<UsageEvent>();
            var idleFrom = random.Next(0, 420);
            for (var daysAgo = 420; daysAgo >= 0; daysAgo--)
            {
                if (random.NextDouble() < 0.4 || (a % 3 == 0 && daysAgo < idleFrom && daysAgo > idleFrom - 200))
                {
                    continue;
                }

                for (var e = random.Next(1, 6); e > 0; e--)
                {
                    var name = names[random.Next(names.Length)];
                    var quantity = name == "nps" ? random.Next(0, 11) : Math.Round(random.NextDouble() * 10, 3);
                    events.Add(new UsageEvent(account, $"{daysAgo}-{e}", $"u{random.Next(8)}", name, Now.AddDays(-daysAgo).AddMinutes(-e), quantity == 0 ? 1 : quantity));
                }
            }

            foreach (var chunk in events.Chunk(1000))
            {
                await writer.WriteAndFoldAsync(new IngestGroup([chunk]), UtcDay.Of(Now), Now.ToUnixTimeMilliseconds(), CancellationToken.None);
            }

            await crm.UpsertAsync(account, new AccountCrm
            {
                Segment = a % 2 == 0 ? "named" : null,
                SeatsPurchased = 10,
                Goals = [new Goal("invoice", 12.5, 30), new Goal("report", 3, 7)],
            }, CancellationToken.None);
        }

        return accounts;
    }
}
