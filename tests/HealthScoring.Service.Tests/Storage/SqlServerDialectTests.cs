using HealthScoring.Service.Storage;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace HealthScoring.Service.Tests.Storage;

/// <summary>
/// No SQL Server runs here, so every T-SQL text the provider sends is at least parsed by Microsoft's own
/// T-SQL parser (SQL Server 2022 grammar) on every test run; the contract suite runs it for real when
/// HEALTHSCORING_TEST_SQLSERVER is set.
/// </summary>
public sealed class SqlServerDialectTests
{
    private static IEnumerable<TestCaseData> Statements()
    {
        foreach (var (id, script) in MigrationRunner.Scripts(StoreProvider.SqlServer))
        {
            yield return new TestCaseData(script).SetName($"TSql_Migration_{id}_Parses");
        }

        yield return new TestCaseData(SqlServerUsageStore.CreateStaging).SetName("TSql_IngestStaging_Parses");
        yield return new TestCaseData(SqlServerUsageStore.InsertKeys).SetName("TSql_IngestInsertKeys_Parses");
        yield return new TestCaseData(SqlServerUsageStore.MergeAggregates).SetName("TSql_IngestMergeAggregates_Parses");
        yield return new TestCaseData(SqlServerUsageStore.PurgeSlice).SetName("TSql_PurgeSlice_Parses");
        yield return new TestCaseData(HealthScoring.Service.Health.ScorerLease.Acquire).SetName("TSql_ScorerLeaseAcquire_Parses");
        yield return new TestCaseData(HealthScoring.Service.Health.ScorerLease.Release).SetName("TSql_ScorerLeaseRelease_Parses");
        yield return new TestCaseData(HealthScoring.Service.Health.HealthRepository.AnyStaleSql).SetName("TSql_ScorerAnyStale_Parses");
    }

    [TestCaseSource(nameof(Statements))]
    public void Statement_ParsesAsSqlServer2022(string sql)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);

        using var reader = new StringReader(sql);
        parser.Parse(reader, out var errors);

        Assert.That(errors.Select(e => $"line {e.Line}: {e.Message}"), Is.Empty);
    }

    [Test]
    public void Migrations_ExistForBothProvidersWithTheSameIds() =>
        Assert.That(MigrationRunner.Scripts(StoreProvider.SqlServer).Select(s => s.Id),
            Is.EqualTo(MigrationRunner.Scripts(StoreProvider.Sqlite).Select(s => s.Id)));
}
