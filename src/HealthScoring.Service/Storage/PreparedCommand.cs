using System.Data;
using System.Data.Common;

namespace HealthScoring.Service.Storage;

/// <summary>
/// A command prepared once and run for many rows inside one transaction, its parameters rebound by position
/// (per-row Dapper calls re-prepare the statement every time: more than executing it costs).
/// </summary>
internal static class PreparedCommand
{
    public static DbCommand Create(DbConnection connection, DbTransaction transaction, string sql, params (string Name, DbType Type)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, type) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.DbType = type;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    /// <summary>Runs the command with new values, in the order its parameters were declared.</summary>
    public static Task<int> ExecuteAsync(this DbCommand command, CancellationToken cancellationToken, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command.ExecuteNonQueryAsync(cancellationToken);
    }
}
