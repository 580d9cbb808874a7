using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Bench.Phases;
using HealthScoring.Bench.Processes;
using HealthScoring.Bench.Report;
using HealthScoring.Bench.Scoring;
using HealthScoring.Service.Scorecards;
using HealthScoring.Service.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace HealthScoring.Bench.Backtest;

/// <summary>
/// <c>backtest [--accounts 10000] [--days 365]</c>: <c>POST /api/v1/scorecards/default/backtest</c> over
/// <c>days</c> evaluation days of every account (daily and weekly), and a calibration, against the service as a
/// child process on a synthetic store (the scoring benchmark's book, with a fifth of the accounts churned after
/// three quiet weeks).
/// </summary>
internal static class BacktestCommand
{
    private const int HorizonDays = 30;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var accounts = CommandLine.Option(args, "--accounts", 10_000);
        var days = CommandLine.Option(args, "--days", 365);
        var today = ScoringData.Today();
        var directory = RepositoryPaths.NewScratchDirectory("backtest");
        var databasePath = Path.Combine(directory, "healthscoring.db");
        try
        {
            var db = await BenchStore.CreateAsync(databasePath, withDefaultScorecard: true, cancellationToken);

            // History: the evaluation days, the horizon after them, and a month of look-back before them.
            var historyDays = days + HorizonDays + 31;
            Progress.Say($"generating {accounts:N0} accounts x {historyDays} days ...");
            var (usageRows, userRows) = ScoringData.Generate(databasePath, accounts, historyDays, today);
            var churned = Churn(databasePath, today, days);
            Progress.Say($"  {usageRows:N0} usage rows, {userRows:N0} user rows, {churned:N0} churned accounts");

            // The daily history a live backtest reads: the service's scorer back-fills every account (in process),
            // so the child server's scorer is idle while the backtests run.
            ScoringData.PrepareBackfill(databasePath, today, accounts);
            var (backfillSeconds, _) = await ScoringCommand.RunScorerAsync(db, new SqlDialect(StoreProvider.Sqlite), cancellationToken);
            var snapshots = ScoringData.Count(databasePath, "health_daily");
            Progress.Say($"  back-filled {snapshots:N0} daily snapshots in {backfillSeconds:0.0} s");

            await using var server = await ChildServer.StartAsync([RepositoryPaths.ServiceDll(null)], directory, directory, new Dictionary<string, string>(), cancellationToken);
            using var http = new HttpClient { BaseAddress = server.RestUrl, Timeout = TimeSpan.FromMinutes(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ChildServer.ApiKey);
            var from = DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UtcNow).DayNumber - HorizonDays - days);
            var to = from.AddDays(days - 1);

            // Warm-up (JIT, page cache) on a short period, then the measured runs.
            await PostAsync(http, "backtest", from, from.AddDays(27), 7, false, cancellationToken);
            await PostAsync(http, "backtest", from, from.AddDays(27), 7, true, cancellationToken);
            var daily = await PostAsync(http, "backtest", from, to, 1, false, cancellationToken);
            var weekly = await PostAsync(http, "backtest", from, to, 7, false, cancellationToken);
            var replayDaily = await PostAsync(http, "backtest", from, to, 1, true, cancellationToken);
            var replayWeekly = await PostAsync(http, "backtest", from, to, 7, true, cancellationToken);
            var calibrate = await PostAsync(http, "calibrate", from, to, 7, false, cancellationToken);
            var (peak, _) = server.Memory();

            Console.WriteLine($"""
                ## Backtest and calibration (issue 7)

                {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {MachineInfo.Current()}
                Store: SQLite, {accounts:N0} accounts x {historyDays} days ({usageRows:N0} usage_daily rows, {userRows:N0} active_users_daily rows),
                {churned:N0} accounts churned in the period (quiet for three weeks before); {snapshots:N0} daily snapshots back-filled by the service's scorer in {backfillSeconds:0.0} s.
                Scorecard: the shipped default; period {from:yyyy-MM-dd}..{to:yyyy-MM-dd} ({days} days), horizon {HorizonDays} days.
                Wall-clock time of the HTTP request against the service (a child process), after a warm-up request of each kind.

                | Request | Observations | Time | Observations/s | Score AUC | Target |
                |---|---:|---:|---:|---:|---:|
                | backtest, live scorecard's stored snapshots, every day (stepDays 1) | {daily.Observations:N0} | {daily.Seconds:0.00} s | {daily.Observations / daily.Seconds:N0} | {daily.Auc} | <= 10 s |
                | backtest, stored snapshots, every 7 days (the default step) | {weekly.Observations:N0} | {weekly.Seconds:0.00} s | {weekly.Observations / weekly.Seconds:N0} | {weekly.Auc} | |
                | backtest, replayed over the aggregates (`replay: true`), every day | {replayDaily.Observations:N0} | {replayDaily.Seconds:0.00} s ({replayDaily.Seconds / daily.Seconds:0.0}x stored) | {replayDaily.Observations / replayDaily.Seconds:N0} | {replayDaily.Auc} | |
                | backtest, replayed, every 7 days | {replayWeekly.Observations:N0} | {replayWeekly.Seconds:0.00} s ({replayWeekly.Seconds / weekly.Seconds:0.0}x stored) | {replayWeekly.Observations / replayWeekly.Seconds:N0} | {replayWeekly.Auc} | |
                | calibrate, every 7 days (replays: fit on 70% of accounts, both scorecards on the other 30%) | {calibrate.Observations:N0} fitted | {calibrate.Seconds:0.00} s | | {calibrate.Auc} | |

                Peak RSS of the service: {peak / 1024 / 1024:N0} MiB.
                """);
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            StoreFiles.DeleteDirectory(directory);
        }
    }

    private sealed record Run(int Observations, double Seconds, string Auc);

    private static async Task<Run> PostAsync(HttpClient http, string action, DateOnly from, DateOnly to, int step, bool replay, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        using var response = await http.PostAsJsonAsync($"/api/v1/scorecards/default/{action}",
            new { from = from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), to = to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), horizonDays = HorizonDays, stepDays = step, replay },
            cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var seconds = stopwatch.Elapsed.TotalSeconds;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{action} answered {(int)response.StatusCode}: {body}");
        }

        Run result = action == "backtest"
            ? new(body.GetProperty("observations").GetInt32(), seconds, Auc(body))
            : new(body.GetProperty("training").GetProperty("observations").GetInt32(), seconds,
                $"hold-out {Auc(body.GetProperty("current"))} -> {Auc(body.GetProperty("proposedBacktest"))}");
        Progress.Say($"{action}{(replay ? " (replay)" : "")} step {step}: {result.Observations:N0} observations in {seconds:0.00} s, AUC {result.Auc}");
        return result;
    }

    private static string Auc(JsonElement backtest) =>
        backtest.GetProperty("auc") is { ValueKind: JsonValueKind.Number } auc ? auc.GetDouble().ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    /// <summary>
    /// A fifth of the accounts churn on a day spread over the period; they go quiet for the three weeks before
    /// (what a health score should see coming) and send nothing after.
    /// </summary>
    private static long Churn(string databasePath, int today, int days)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            UPDATE accounts SET status = 'churned',
                   churned_at = (@today - @horizon - (CAST(substr(account_id, 6) AS INTEGER) * 37 % @days)) * 86400000 + 43200000
            WHERE substr(account_id, -1) IN ('3', '7');
            DELETE FROM usage_daily WHERE account_id IN (SELECT account_id FROM accounts WHERE status = 'churned')
              AND day >= (SELECT churned_at / 86400000 - 21 FROM accounts a WHERE a.account_id = usage_daily.account_id);
            DELETE FROM active_users_daily WHERE account_id IN (SELECT account_id FROM accounts WHERE status = 'churned')
              AND day >= (SELECT churned_at / 86400000 - 21 FROM accounts a WHERE a.account_id = active_users_daily.account_id);
            """;
        command.Parameters.AddWithValue("@today", today);
        command.Parameters.AddWithValue("@horizon", HorizonDays);
        command.Parameters.AddWithValue("@days", days);
        command.CommandTimeout = 0;
        command.ExecuteNonQuery();
        transaction.Commit();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM accounts WHERE status = 'churned'";
        return (long)count.ExecuteScalar()!;
    }
}
