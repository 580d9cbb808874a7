using HealthScoring.Service.Health;
using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;
using HealthScoring.Service.Tests.Storage;

namespace HealthScoring.Service.Tests.Health;

/// <summary>The real scorer on a fresh store of one provider, with the default scorecard, at <see cref="LoadPlanEquivalenceTests.Now"/>.</summary>
internal static class ScorerOnStore
{
    /// <summary>Ignores the test when it asks for SQL Server and <c>HEALTHSCORING_TEST_SQLSERVER</c> is not set.</summary>
    public static async Task<(TestStore Store, HealthRepository Health, AccountScorer Scorer)> CreateAsync(string providerName)
    {
        var provider = Enum.Parse<StoreProvider>(providerName);
        if (provider == StoreProvider.SqlServer && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TestStore.SqlServerVariable)))
        {
            Assert.Ignore($"{TestStore.SqlServerVariable} is not set: the SQL Server contract did not run.");
        }

        var store = await TestStore.CreateAsync(provider);
        var dialect = new SqlDialect(provider);
        var clock = new Infrastructure.FakeClock(LoadPlanEquivalenceTests.Now);
        var scorecards = new ScorecardRepository(store.Db, dialect, clock);
        await scorecards.EnsureAsync(CancellationToken.None);
        var health = new HealthRepository(store.Db, dialect);
        return (store, health, new AccountScorer(health, new ScorecardCatalog(scorecards, clock), new ScoringOptions()));
    }
}
