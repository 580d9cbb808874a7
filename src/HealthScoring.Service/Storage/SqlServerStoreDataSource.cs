using System.Data.Common;
using Microsoft.Data.SqlClient;

namespace HealthScoring.Service.Storage;

/// <summary>Pooled connections to SQL Server (production).</summary>
internal sealed class SqlServerStoreDataSource(string connectionString) : DbDataSource
{
    public override string ConnectionString => connectionString;

    protected override DbConnection CreateDbConnection() => new SqlConnection(connectionString);
}
