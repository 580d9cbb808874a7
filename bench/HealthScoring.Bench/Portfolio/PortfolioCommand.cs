using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HealthScoring.Bench.Phases;
using HealthScoring.Bench.Processes;
using HealthScoring.Bench.Report;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace HealthScoring.Bench.Portfolio;

/// <summary>
/// <c>portfolio [--accounts 100000] [--months 36] [--runs 10]</c>: the data team's and the CRM's bulk reads on a
/// synthetic book (SQL-generated: contract starts over the last <c>months</c> months, MRR histories with expansions,
/// contractions and churn, scores, bands and flags), served by the real service as a child process:
/// <c>GET /api/v1/cohorts/churn</c> (monthly, every cohort) and a full <c>updatedSince</c> pull in pages of 1,000.
/// Baseline in the same run: the same rows read in process with no HTTP and no arithmetic.
/// </summary>
internal static class PortfolioCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var accounts = CommandLine.Option(args, "--accounts", 100_000);
        var months = CommandLine.Option(args, "--months", 36);
        var runs = CommandLine.Option(args, "--runs", 10);
        var directory = RepositoryPaths.NewScratchDirectory("portfolio");
        var databasePath = Path.Combine(directory, "healthscoring.db");
        try
        {
            var db = await BenchStore.CreateAsync(databasePath, withDefaultScorecard: false, cancellationToken);
            Progress.Say($"generating {accounts:N0} accounts over {months} monthly cohorts ...");
            var (changes, flags) = Generate(databasePath, accounts, months);
            Progress.Say($"  {changes:N0} MRR/status changes, {flags:N0} active flags");
            SqliteConnection.ClearAllPools();

            var baseline = Baseline(databasePath, runs);
            var (loadMs, buildMs) = await InProcessAsync(db, runs, cancellationToken);
            await using var server = await ChildServer.StartAsync([RepositoryPaths.ServiceDll(null)], directory, directory,
                new Dictionary<string, string> { ["HealthScoring__Scoring__PollInterval"] = "01:00:00" }, cancellationToken);
            using var http = new HttpClient { BaseAddress = server.RestUrl, Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ChildServer.ApiKey);

            var cohortTimes = new List<double>();
            var cohortCount = 0;
            for (var i = 0; i < runs + 1; i++)
            {
                var watch = Stopwatch.StartNew();
                var table = await http.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?interval=month", cancellationToken);
                cohortTimes.Add(watch.Elapsed.TotalMilliseconds);
                cohortCount = table.GetProperty("cohorts").GetArrayLength();
            }

            // After a CRM change the CRM inputs are refreshed (only what changed is read): what a data team sees next.
            var invalidated = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                using var put = await http.PutAsJsonAsync($"/api/v1/accounts/acct-{i:000000}", new { mrr = 500 + i, contractStart = "2024-01-15" }, cancellationToken);
                put.EnsureSuccessStatusCode();
                var watch = Stopwatch.StartNew();
                await http.GetFromJsonAsync<JsonElement>("/api/v1/cohorts/churn?interval=month", cancellationToken);
                invalidated.Add(watch.Elapsed.TotalMilliseconds);
            }

            var csvWatch = Stopwatch.StartNew();
            using var csvRequest = new HttpRequestMessage(HttpMethod.Get, "/api/v1/cohorts/churn?interval=month");
            csvRequest.Headers.Accept.ParseAdd("text/csv");
            using var csv = await http.SendAsync(csvRequest, cancellationToken);
            var csvLines = (await csv.Content.ReadAsStringAsync(cancellationToken)).Count(c => c == '\n');
            var csvMs = csvWatch.Elapsed.TotalMilliseconds;

            var pulls = new List<(double Seconds, int Items, int Pages)>();
            for (var i = 0; i < 3; i++)
            {
                pulls.Add(await PullAsync(http, accounts, cancellationToken));
            }

            var cold = cohortTimes[0];
            var warm = cohortTimes.Skip(1).Order().ToList();
            var median = warm[warm.Count / 2];
            var bestPull = pulls.MinBy(p => p.Seconds);
            Console.WriteLine($"""
                ## Portfolio pulls and cohorts (issue 5)

                {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {MachineInfo.Current()}
                Store: SQLite (synchronous=FULL), {accounts:N0} accounts in {cohortCount} monthly cohorts, {changes:N0} MRR/status changes, {flags:N0} active risk flags.

                | Measurement | Result | Target |
                |---|---:|---:|
                | GET /api/v1/cohorts/churn (monthly, all cohorts), median of {runs} warm runs | {Ms(median)} (min {Ms(warm[0])}, max {Ms(warm[^1])}; first, cold: {Ms(cold)}) | <= 300 ms |
                | Same, right after a CRM upsert (CRM inputs refreshed with what changed), median of 3 | {Ms(invalidated.Order().ToList()[1])} | |
                | Baseline: the same rows read in process, no HTTP, no arithmetic (median of {runs}) | {Ms(baseline)} (cohort GET = {median / baseline:0.0}x) | |
                | The service's own load and table, in process (median of {runs}) | load {Ms(loadMs)}, build {Ms(buildMs)} | |
                | Same table as CSV (`Accept: text/csv`, {csvLines:N0} lines) | {Ms(csvMs)} | |
                | Full `updatedSince` pull, {accounts:N0} accounts in pages of 1,000 (best of 3) | {bestPull.Seconds:0.00} s ({bestPull.Pages} pages, {bestPull.Items:N0} accounts, each once; runs: {string.Join(", ", pulls.Select(p => p.Seconds.ToString("0.00", CultureInfo.InvariantCulture)))} s) | <= 5 s |
                """);
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Ms(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    /// <summary>Every page of a pull since the epoch: every account, each exactly once (checked).</summary>
    private static async Task<(double Seconds, int Items, int Pages)> PullAsync(HttpClient http, int accounts, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await http.GetFromJsonAsync<JsonElement>(
                $"/api/v1/accounts?updatedSince=1970-01-01&limit=1000{(cursor is null ? "" : "&cursor=" + cursor)}", cancellationToken);
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                if (!seen.Add(item.GetProperty("accountId").GetString()!))
                {
                    throw new InvalidOperationException("an account was served twice");
                }
            }

            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null);

        if (seen.Count != accounts)
        {
            throw new InvalidOperationException($"the pull served {seen.Count} accounts, not {accounts}");
        }

        return (watch.Elapsed.TotalSeconds, seen.Count, pages);
    }

    /// <summary>The service's cohort load and arithmetic, in process, without HTTP (median ms of each).</summary>
    private static async Task<(double Load, double Build)> InProcessAsync(SqliteStoreDataSource db, int runs, CancellationToken cancellationToken)
    {
        var repository = new HealthScoring.Service.Cohorts.CohortRepository(db);
        var load = new List<double>();
        var build = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            var rows = await repository.LoadAsync(null, null, cancellationToken);
            load.Add(watch.Elapsed.TotalMilliseconds);
            watch.Restart();
            HealthScoring.Service.Cohorts.CohortTable.Build(rows, HealthScoring.Service.Cohorts.CohortInterval.Month, DateTimeOffset.UtcNow);
            build.Add(watch.Elapsed.TotalMilliseconds);
        }

        return (load.Order().ToList()[runs / 2], build.Order().ToList()[runs / 2]);
    }

    /// <summary>Reads the cohort query's rows into memory the plainest way (median ms of <paramref name="runs"/>).</summary>
    private static double Baseline(string databasePath, int runs)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
            connection.Open();
            long sink = 0;
            foreach (var sql in new[]
            {
                "SELECT account_id, changed_at, mrr, status FROM account_changes ORDER BY account_id, changed_at",
                "SELECT account_id, contract_start, first_event_at, mrr, status, churned_at, score, band FROM accounts",
            })
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    sink += reader.GetString(0).Length + (reader.IsDBNull(1) ? 0 : reader.GetInt64(1));
                }
            }

            times.Add(watch.Elapsed.TotalMilliseconds + (sink == -1 ? 1 : 0));
        }

        return times.Order().ToList()[times.Count / 2];
    }

    /// <summary>
    /// The synthetic book, deterministic: account n starts n mod (30 x months) days ago; MRR 100 + (n mod 900); a third
    /// expand by 20% after 90 days, a tenth contract by half after 60; one in five churns (n mod 300 days after its
    /// start, if that is past); scores spread over 0-100, accounts below 40 with an active inactive flag.
    /// </summary>
    private static (long Changes, long Flags) Generate(string databasePath, int accounts, int months)
    {
        var today = UtcDay.Of(DateTimeOffset.UtcNow);
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        void Run(string sql)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            command.Parameters.AddWithValue("@accounts", accounts);
            command.Parameters.AddWithValue("@span", 30 * months);
            command.Parameters.AddWithValue("@today", today);
            command.Parameters.AddWithValue("@now", nowMs);
            command.ExecuteNonQuery();
        }

        Run("""
            WITH RECURSIVE a(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM a WHERE n + 1 < @accounts)
            INSERT INTO accounts (account_id, created_at, updated_at, event_count, quantity_total, segment, plan_name, seats_purchased, mrr,
                                  contract_start, status, churned_at, score, band, health_day, health_changed_at)
            SELECT printf('acct-%06d', n), @now - (@accounts - n) * 1000, @now, 0, 0,
                   CASE WHEN n % 4 = 0 THEN 'enterprise' ELSE 'smb' END, CASE WHEN n % 3 = 0 THEN 'pro' ELSE 'basic' END, 20,
                   100 + (n % 900), @today - (n % @span),
                   CASE WHEN n % 5 = 0 AND @today - (n % @span) + (n % 300) < @today THEN 'churned' ELSE 'active' END,
                   CASE WHEN n % 5 = 0 AND @today - (n % @span) + (n % 300) < @today THEN (@today - (n % @span) + (n % 300)) * 86400000 END,
                   (n * 37) % 101, CASE WHEN (n * 37) % 101 < 40 THEN 'red' WHEN (n * 37) % 101 < 70 THEN 'yellow' ELSE 'green' END,
                   @today, @now - (n % 86400) * 1000
            FROM a
            """);
        Run("""
            INSERT INTO account_changes (account_id, changed_at, day, mrr, seats_purchased, status)
            SELECT account_id, contract_start * 86400000, contract_start, 100 + (CAST(substr(account_id, 6) AS INTEGER) % 900), 20, 'active' FROM accounts;
            INSERT INTO account_changes (account_id, changed_at, day, mrr, seats_purchased, status)
            SELECT account_id, (contract_start + 90) * 86400000, contract_start + 90, mrr * 1.2, 20, 'active' FROM accounts
            WHERE CAST(substr(account_id, 6) AS INTEGER) % 3 = 0 AND contract_start + 90 < @today;
            INSERT INTO account_changes (account_id, changed_at, day, mrr, seats_purchased, status)
            SELECT account_id, (contract_start + 60) * 86400000, contract_start + 60, mrr * 0.5, 20, 'active' FROM accounts
            WHERE CAST(substr(account_id, 6) AS INTEGER) % 10 = 1 AND contract_start + 60 < @today;
            INSERT INTO account_changes (account_id, changed_at, day, mrr, seats_purchased, status)
            SELECT account_id, churned_at, churned_at / 86400000, mrr, 20, 'churned' FROM accounts WHERE status = 'churned';
            INSERT INTO risk_flags (id, account_id, type, severity, raised_day, raised_at, cleared_day, cleared_at, reason, evidence_json, updated_at)
            SELECT 'rf_' || account_id, account_id, 'inactive', 'high', @today - 3, (@today - 3) * 86400000, NULL, NULL,
                   'No activity for 17 days', '{"daysSinceLastActivity":17}', @now
            FROM accounts WHERE score < 40 AND status = 'active';
            """);
        transaction.Commit();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT (SELECT COUNT(*) FROM account_changes), (SELECT COUNT(*) FROM risk_flags)";
        using var reader = count.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
