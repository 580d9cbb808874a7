using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HealthScoring.Bench.Load;
using HealthScoring.Protos.V1;

namespace HealthScoring.Bench.Demo;

/// <summary>
/// <c>demo [--rest URL] [--grpc URL] [--key KEY] [--accounts 200] [--days 365] [--concurrency 4] [--batch 500] [--seed 7]</c>:
/// fills a running service with a realistic book of business, the way real clients would: the product's scorecard
/// settings and the accounts (seats, MRR history, renewals, goals, champions) over REST, a year of telemetry over
/// gRPC, churned accounts marked over REST. Five archetypes: thriving, steady, declining, churned, onboarding.
/// Deterministic for a seed, and idempotent: running it again re-sends the same event ids (counted once).
/// With a larger <c>--accounts</c>/<c>--days</c> and <c>--concurrency</c>/<c>--batch</c> it is a load generator.
/// </summary>
internal static class DemoCommand
{
    public const string Usage = """
        usage: HealthScoring.Bench demo [--rest http://localhost:8080] [--grpc http://localhost:8081] [--key KEY]
                                        [--accounts 200] [--days 365] [--concurrency 4] [--batch 500] [--seed 7]
          --key   an admin API key (default: the contents of data/admin-key.txt, which the service writes on first start)
        """;

    private static readonly string[] KeyFeatures = ["report.exported", "dashboard.viewed", "integration.sync", "search.performed", "user.invited"];
    private static readonly string[] Milestones = ["integration.connected", "user.invited", "report.exported"];
    private static readonly string[] Everyday = ["login", "page.view", "record.created", "record.updated", "dashboard.viewed", "search.performed"];

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var rest = new Uri(Text(args, "--rest") ?? "http://localhost:8080");
        var grpcUrl = new Uri(Text(args, "--grpc") ?? "http://localhost:8081");
        var key = Text(args, "--key") ?? (File.Exists("data/admin-key.txt") ? (await File.ReadAllTextAsync("data/admin-key.txt", cancellationToken)).Trim() : null);
        if (key is null)
        {
            Console.Error.WriteLine("No API key: pass --key, or run from the folder holding data/admin-key.txt.");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var accounts = Number(args, "--accounts", 200);
        var days = Math.Clamp(Number(args, "--days", 365), 1, 390);
        var concurrency = Number(args, "--concurrency", 4);
        var batchSize = Math.Clamp(Number(args, "--batch", 500), 1, 1000);
        var seed = Number(args, "--seed", 7);

        using var http = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);

        Progress.Say("configuring the product's key features and onboarding milestones on the default scorecard ...");
        await ConfigureScorecardAsync(http, cancellationToken);

        var book = Enumerable.Range(0, accounts).Select(i => DemoAccount.Create(i, seed, today)).ToList();
        Progress.Say($"upserting {book.Count} accounts with their MRR history over REST ...");
        foreach (var account in book)
        {
            foreach (var state in account.CrmStates(today))
            {
                using var put = await http.PutAsJsonAsync($"/api/v1/accounts/{account.Id}", state, cancellationToken);
                if (!put.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"PUT {account.Id}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(cancellationToken)}");
                }
            }
        }

        Progress.Say($"sending {days} days of telemetry over gRPC ({concurrency} calls at a time, {batchSize} events per batch) ...");
        using var grpc = new GrpcIngestClient(grpcUrl, key, Math.Max(1, concurrency));
        var batches = Batches(book, today, days, batchSize);
        var (sent, accepted, duplicates, rejected, calls) = (0L, 0L, 0L, 0L, 0L);
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (batch, ct) =>
        {
            var body = GrpcIngestClient.Frame(batch);
            var connection = (int)(Interlocked.Increment(ref calls) % Math.Max(1, concurrency));
            CallResult result;
            var attempt = 0;
            // Back-pressure (RESOURCE_EXHAUSTED = 8, UNAVAILABLE = 14) is a request to retry later: a retry is safe.
            while ((result = await grpc.IngestAsync(body, body.Length, connection, ct)).Status is 8 or 14 && attempt++ < 20)
            {
                await Task.Delay(500 * attempt, ct);
            }

            if (result.Status != 0)
            {
                throw new InvalidOperationException($"Ingest failed with grpc-status {result.Status}");
            }

            Interlocked.Add(ref sent, batch.Events.Count);
            Interlocked.Add(ref accepted, result.Accepted);
            Interlocked.Add(ref duplicates, result.Duplicates);
            Interlocked.Add(ref rejected, result.Rejected);
        });
        var rate = sent / Math.Max(0.001, watch.Elapsed.TotalSeconds);
        Progress.Say($"  {sent:N0} events in {calls:N0} calls, {watch.Elapsed.TotalSeconds:0.0} s ({rate:N0} events/s): {accepted:N0} accepted, {duplicates:N0} duplicates, {rejected:N0} rejected");

        Progress.Say("waiting for the scorer to catch up with all of it (it runs every 10 s by default) ...");
        var asked = DateTimeOffset.UtcNow;
        using (var rescore = await http.PostAsJsonAsync("/api/v1/rescore", new { accountIds = book.Select(a => a.Id).ToArray() }, cancellationToken))
        {
            rescore.EnsureSuccessStatusCode();
        }

        await WaitScoredAsync(http, book, asked, cancellationToken);
        await SummaryAsync(http, cancellationToken);
        return 0;
    }

    /// <summary>Sets key features and milestones on the default scorecard (the one setting every product must make).</summary>
    private static async Task ConfigureScorecardAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var card = JsonNode.Parse(await http.GetStringAsync("/api/v1/scorecards/default", cancellationToken))!.AsObject();
        card["keyFeatures"] = new JsonArray([.. KeyFeatures.Select(f => JsonValue.Create(f))]);
        card["onboardingMilestones"] = new JsonArray([.. Milestones.Select(f => JsonValue.Create(f))]);
        foreach (var name in new[] { "version", "createdAt", "createdBy" })
        {
            card.Remove(name);
        }

        using var put = await http.PutAsync("/api/v1/scorecards/default", new StringContent(card.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), cancellationToken);
        if (!put.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT scorecard: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    /// <summary>Every account's events, day by day, cut into batches that mix accounts (as a real product backend's would).</summary>
    private static IEnumerable<IngestRequest> Batches(IReadOnlyList<DemoAccount> book, DateOnly today, int days, int batchSize)
    {
        var batch = new IngestRequest();
        for (var d = days - 1; d >= 0; d--)
        {
            var day = today.AddDays(-d);
            foreach (var account in book)
            {
                foreach (var e in account.EventsOn(day, today, firstDay: today.AddDays(1 - days)))
                {
                    batch.Events.Add(e);
                    if (batch.Events.Count == batchSize)
                    {
                        yield return batch;
                        batch = new IngestRequest();
                    }
                }
            }
        }

        if (batch.Events.Count > 0)
        {
            yield return batch;
        }
    }

    /// <summary>Waits until every account's score was computed after the last event was sent.</summary>
    private static async Task WaitScoredAsync(HttpClient http, IReadOnlyList<DemoAccount> book, DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        var waiting = book.Select(a => a.Id).ToList();
        while (waiting.Count > 0 && DateTime.UtcNow < deadline)
        {
            var still = new List<string>();
            foreach (var id in waiting)
            {
                using var response = await http.GetAsync($"/api/v1/accounts/{id}/health", cancellationToken);
                var computed = response.IsSuccessStatusCode
                    ? (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("computedAt").GetDateTimeOffset()
                    : DateTimeOffset.MinValue;
                if (computed < sentAt)
                {
                    still.Add(id);
                }
            }

            waiting = still;
            if (waiting.Count > 0)
            {
                await Task.Delay(2000, cancellationToken);
            }
        }

        if (waiting.Count > 0)
        {
            Progress.Say($"  ({waiting.Count} accounts not rescored within 5 minutes; the summary shows what is there)");
        }
    }

    private static async Task SummaryAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var bands = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var band in new[] { "green", "yellow", "red" })
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"/api/v1/accounts?band={band}&limit=1000", cancellationToken);
            bands[band] = page.GetProperty("items").GetArrayLength();
        }

        var flags = await http.GetFromJsonAsync<JsonElement>("/api/v1/risk-flags?limit=1000", cancellationToken);
        var byType = flags.GetProperty("items").EnumerateArray().GroupBy(f => f.GetProperty("type").GetString()!).OrderByDescending(g => g.Count());
        var red = await http.GetFromJsonAsync<JsonElement>("/api/v1/accounts?band=red&limit=1000", cancellationToken);
        var worst = red.GetProperty("items").EnumerateArray().Where(a => a.GetProperty("status").GetString() == "active")
            .OrderBy(a => a.GetProperty("score").GetInt32()).Take(5).ToList();
        Console.WriteLine();
        Console.WriteLine($"Bands: {bands["green"]} green, {bands["yellow"]} yellow, {bands["red"]} red (churned accounts included)");
        Console.WriteLine($"Active risk flags: {string.Join(", ", byType.Select(g => $"{g.Key} {g.Count()}"))}");
        Console.WriteLine("Lowest scores among active customers:");
        foreach (var a in worst)
        {
            Console.WriteLine($"  {a.GetProperty("accountId").GetString()} score {a.GetProperty("score")} flags [{string.Join(", ", a.GetProperty("riskFlags").EnumerateArray().Select(f => f.GetProperty("type").GetString()))}]");
        }

        Console.WriteLine("""

            Try (with $KEY an admin key):
              curl -s -H "Authorization: Bearer $KEY" localhost:8080/api/v1/accounts/demo-0003/health | jq .
              curl -s -H "Authorization: Bearer $KEY" "localhost:8080/api/v1/risk-flags?severity=high" | jq .
              curl -s -H "Authorization: Bearer $KEY" "localhost:8080/api/v1/cohorts/churn?interval=quarter" | jq .
              curl -s -H "Authorization: Bearer $KEY" -H "Accept: text/csv" "localhost:8080/api/v1/cohorts/churn"
            """);
    }

    private static string? Text(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static int Number(string[] args, string name, int fallback) =>
        Text(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>One demo account: its archetype decides its CRM history and how its telemetry evolves.</summary>
    private sealed record DemoAccount(
        string Id, string Archetype, string Segment, string Plan, int Seats, double Mrr, DateOnly Start, DateOnly? ChurnOn, int Seed)
    {
        public static DemoAccount Create(int i, int seed, DateOnly today)
        {
            var random = new Random(HashCode.Combine(seed, i));
            var archetype = (i % 20) switch
            {
                < 6 => "thriving",
                < 12 => "steady",
                < 15 => "declining",
                < 18 => "churned",
                _ => "onboarding",
            };
            var segment = (i % 3) switch { 0 => "enterprise", 1 => "mid-market", _ => "smb" };
            var seats = segment switch { "enterprise" => random.Next(20, 40), "mid-market" => random.Next(8, 20), _ => random.Next(3, 8) };
            var start = archetype == "onboarding" ? today.AddDays(-random.Next(10, 75)) : today.AddDays(-random.Next(380, 1100));
            DateOnly? churn = archetype == "churned" ? today.AddDays(-random.Next(20, 300)) : null;
            return new DemoAccount($"demo-{i:0000}", archetype, segment, segment == "smb" ? "basic" : "pro", seats, seats * (segment == "smb" ? 30 : 45), start, churn, HashCode.Combine(seed, i, 17));
        }

        /// <summary>The CRM's dated states: signed, then (by archetype) expanded, contracted or churned.</summary>
        public IEnumerable<object> CrmStates(DateOnly today)
        {
            var renewal = Start;
            while (renewal <= today)
            {
                renewal = renewal.AddYears(1);
            }

            object State(double mrr, int seats, DateOnly at, string status = "active") => new
            {
                name = $"Demo {Archetype} {Id[5..]}",
                segment = Segment,
                plan = Plan,
                seatsPurchased = seats,
                mrr,
                currency = "USD",
                contractStart = Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                renewalDate = renewal.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                status,
                churnedAt = status == "churned" ? $"{at:yyyy-MM-dd}T12:00:00Z" : null,
                championUserId = $"{Id}-u0",
                goals = new[] { new { metric = "integration.sync", target = Seats * 40.0, windowDays = 30 } },
                attributes = new { archetype = Archetype },
                effectiveAt = $"{at:yyyy-MM-dd}T12:00:00Z",
            };

            yield return State(Mrr, Seats, Start);
            if (Archetype == "thriving" && Start.AddDays(200) < today)
            {
                yield return State(Math.Round(Mrr * 1.3), Seats + Seats / 3, Start.AddDays(200));
            }

            if (Archetype == "declining" && today.AddDays(-45) > Start)
            {
                yield return State(Math.Round(Mrr * 0.7), Math.Max(1, Seats * 2 / 3), today.AddDays(-45));
            }

            if (ChurnOn is { } churn)
            {
                yield return State(Mrr, Seats, churn, "churned");
            }
        }

        /// <summary>This account's events on <paramref name="day"/> (deterministic: the same ids every run).</summary>
        public IEnumerable<UsageEvent> EventsOn(DateOnly day, DateOnly today, DateOnly firstDay)
        {
            if (day < Start || (ChurnOn is { } churn && day >= churn))
            {
                yield break;
            }

            var random = new Random(HashCode.Combine(Seed, day.DayNumber));
            var age = day.DayNumber - Start.DayNumber;
            var n = 0;
            UsageEvent Event(string name, string user, double quantity = 0) => new()
            {
                AccountId = Id,
                EventId = $"{Id}-{day.DayNumber}-{n++}",
                Name = name,
                UserId = user,
                OccurredAt = Timestamp.FromDateTime(Min(day.ToDateTime(new TimeOnly(8 + random.Next(0, 10), random.Next(0, 60)), DateTimeKind.Utc), DateTime.UtcNow.AddMinutes(-1))),
                Quantity = quantity,
            };
            var (activity, users) = Shape(day, today);
            if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                activity *= 0.2;
            }

            // Onboarding milestones in the first weeks (stalled for half the onboarding accounts), whatever the day's activity.
            // (An account older than the telemetry sent reached them before it: they are sent on its first day.)
            var setUpBefore = Start < firstDay && day == firstDay;
            if (age == 2 || setUpBefore)
            {
                yield return Event("integration.connected", $"{Id}-u0");
            }

            if ((age == 9 && !(Archetype == "onboarding" && Seed % 2 == 0)) || setUpBefore)
            {
                yield return Event("user.invited", $"{Id}-u0");
                yield return Event("report.exported", $"{Id}-u0");
            }

            if (random.NextDouble() > activity)
            {
                yield break;
            }

            var active = Math.Max(1, (int)Math.Round(Seats * users * (0.8 + 0.4 * random.NextDouble())));

            for (var u = 0; u < active; u++)
            {
                var user = $"{Id}-u{u}";
                yield return Event("login", user);
                yield return Event(Everyday[random.Next(Everyday.Length)], user);
                if (random.NextDouble() < (Archetype is "thriving" ? 0.35 : 0.12))
                {
                    yield return Event(KeyFeatures[random.Next(Archetype is "thriving" ? KeyFeatures.Length : 2)], user);
                }
            }

            if (random.NextDouble() < (Archetype is "declining" or "churned" ? 0.2 : 0.6))
            {
                yield return Event("integration.sync", $"{Id}-u0", Seats * random.Next(1, 4));
            }

            // NPS a few times a year.
            if (day.DayNumber % 91 == Seed % 91)
            {
                var nps = Archetype switch
                {
                    "thriving" => random.Next(9, 11),
                    "steady" => random.Next(7, 9),
                    "declining" or "churned" => random.Next(2, 7),
                    _ => random.Next(6, 10),
                };
                yield return Event("nps", $"{Id}-u{random.Next(active)}", nps);
            }
        }

        private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

        /// <summary>Chance of activity that day and share of seats in use, by archetype and time.</summary>
        private (double Activity, double Users) Shape(DateOnly day, DateOnly today)
        {
            var daysLeft = today.DayNumber - day.DayNumber;
            return Archetype switch
            {
                "thriving" => (0.95, 0.75),
                "steady" => (0.75, 0.45),
                // The last 60 days fade out: the leading signal a CSM should see before the renewal.
                "declining" => daysLeft > 60 ? (0.8, 0.5) : (0.1 + 0.7 * daysLeft / 60.0, 0.1 + 0.4 * daysLeft / 60.0),
                "churned" => ChurnOn is { } churn && churn.DayNumber - day.DayNumber is var toChurn && toChurn < 75
                    ? (0.05 + 0.7 * toChurn / 75.0, 0.1 + 0.35 * toChurn / 75.0)
                    : (0.75, 0.45),
                _ => (0.6, 0.3),
            };
        }
    }
}
