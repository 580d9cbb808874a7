using System.Text.Json;
using Dapper;
using HealthScoring.Service.Health;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Tests.Storage;

using HealthScoring.Service.Tests.Infrastructure;

namespace HealthScoring.Service.Tests.Health;

/// <summary>
/// The stored GET .../health document's trend: the score against the day 7 and 30 days before, from the days being
/// recomputed when they are among them and from the stored history otherwise. The scorer renders it with the scores it
/// loaded; a save given no document renders the same bytes from the store.
/// </summary>
public sealed class StoredDocumentTests
{
    [TestCase("Sqlite", 0)]
    [TestCase("Sqlite", 10)]
    [TestCase("SqlServer", 0)]
    [TestCase("SqlServer", 10)]
    public async Task Trend_ComparesWithTheDaysSevenAndThirtyBefore(string providerName, int recomputedBefore)
    {
        var (created, health, scorer) = await ScorerOnStore.CreateAsync(providerName);
        await using var store = created;
        var now = LoadPlanEquivalenceTests.Now;
        var today = UtcDay.Of(now);
        await store.NewUsageStore().WriteAndFoldAsync(new IngestGroup([[
            new UsageEvent("trend-1", "e1", "u1", "login", now.AddDays(-40), 1),
            new UsageEvent("trend-1", "e2", "u2", "report", now.AddDays(-2), 2),
        ]]), today, now.ToUnixTimeMilliseconds(), CancellationToken.None);

        // Stored history that no real score of this usage would give: 7 days before 3, 30 days before 97.
        await using (var connection = await store.Db.OpenConnectionAsync())
        {
            foreach (var (day, score) in new[] { (today - 7, 3), (today - 30, 97) })
            {
                await connection.ExecuteAsync(
                    "INSERT INTO health_daily (account_id, day, score, band, scorecard_id, scorecard_version) VALUES ('trend-1', @day, @score, 'red', 'default', 1)",
                    new { day, score });
            }
        }

        var due = (await health.DueAsync(today, today - 400, 10, CancellationToken.None)).Single() with { FromDay = today - recomputedBefore };
        var scored = (await scorer.ScoreAsync([due], today, CancellationToken.None, documentsAt: now)).Single();
        var last = scored.Days[^1].Score!.Value;
        var expected7 = recomputedBefore >= 7 ? last - scored.Days[^8].Score : last - 3;
        Assert.That(scored.Document, Is.Not.Null);
        var trend = JsonDocument.Parse(scored.Document).RootElement.GetProperty("trend");
        Assert.Multiple(() =>
        {
            Assert.That(trend.GetProperty("delta7d").GetInt32(), Is.EqualTo(expected7), "7 days before");
            Assert.That(trend.GetProperty("delta30d").GetInt32(), Is.EqualTo(last - 97), "30 days before: stored");
        });

        // The save stores the scorer's document as is; given none, it renders the same from the stored scores.
        await health.SaveAsync([scored], now.ToUnixTimeMilliseconds(), CancellationToken.None);
        Assert.That((await health.StoredAsync("trend-1", now, CancellationToken.None))?.Json, Is.EqualTo(scored.Document));
        await using (var connection = await store.Db.OpenConnectionAsync())
        {
            // Back to the store before the save (it replaced the recomputed days and stored the flags they raised).
            await connection.ExecuteAsync("DELETE FROM health_daily WHERE account_id = 'trend-1' AND day >= @first", new { first = today - recomputedBefore });
            await connection.ExecuteAsync("DELETE FROM risk_flags WHERE account_id = 'trend-1'");
            foreach (var (day, score) in new[] { (today - 7, 3), (today - 30, 97) }.Where(d => d.Item1 < today - recomputedBefore))
            {
                await connection.ExecuteAsync("UPDATE health_daily SET score = @score WHERE account_id = 'trend-1' AND day = @day", new { day, score });
            }
        }

        await health.SaveAsync([scored with { Document = null }], now.ToUnixTimeMilliseconds(), CancellationToken.None);
        Assert.That((await health.StoredAsync("trend-1", now, CancellationToken.None))?.Json, Is.EqualTo(scored.Document), "rendered by the save");
    }
}
