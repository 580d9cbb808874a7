using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HealthScoring.Scoring.Backtest;
using HealthScoring.Scoring.Scorecards;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Ingestion;
using HealthScoring.Service.Scorecards;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Backtests;

/// <summary>The request body as the OpenAPI document shows it (the endpoint reads it field by field to report every error).</summary>
internal sealed record BacktestRequestBody(DateOnly From, DateOnly To, int? HorizonDays, int? StepDays, int? Version, bool? Replay);

/// <summary>
/// Which scorecard was measured; <see cref="Scores"/>: "stored" (the live scorecard's daily snapshots as the service
/// computed them) or "replayed" (this version run over the stored daily aggregates).
/// </summary>
internal sealed record BacktestScorecardRef(string Id, int Version, bool Live, string Scores);

internal sealed record BacktestPeriodView(DateOnly From, DateOnly To, DateOnly EvaluatedTo, int HorizonDays, int StepDays, int EvaluationDays);

/// <summary>The backtest figures (CONTRACT: auc, accounts, churned, bands, medianLeadTimeDays, measures) with what was replayed.</summary>
internal sealed record BacktestResponse(
    BacktestScorecardRef Scorecard,
    BacktestPeriodView Period,
    double? Auc,
    int Accounts,
    int Churned,
    int Observations,
    int ChurnedObservations,
    IReadOnlyList<BandFigures> Bands,
    double? LiftRedOverGreen,
    double? MedianLeadTimeDays,
    int ChurnsWarnedByRed,
    IReadOnlyList<MeasureAuc> Measures,
    long ElapsedMs)
{
    public static BacktestResponse From(BacktestScorecardRef scorecard, BacktestPeriodView period, BacktestResult r, long elapsedMs) => new(
        scorecard, period, r.Auc, r.Accounts, r.Churned, r.Observations, r.ChurnedObservations, r.Bands, r.LiftRedOverGreen,
        r.MedianLeadTimeDays, r.ChurnsWarnedByRed, r.Measures, elapsedMs);
}

internal sealed record CalibrationSplit(string Method, double HoldOutShare, int TrainingAccounts, int HoldOutAccounts);

internal sealed record CalibrationFit(double? CurrentAuc, double? ProposedAuc, int Observations, int Churned);

internal sealed record CalibrationResponse(
    BacktestScorecardRef Scorecard,
    BacktestPeriodView Period,
    CalibrationSplit Split,
    Scorecard Proposed,
    IReadOnlyList<CalibrationChange> Changes,
    CalibrationFit Training,
    BacktestResult Current,
    BacktestResult ProposedBacktest,
    string Recommendation,
    string Note,
    long ElapsedMs);

/// <summary>
/// <c>POST /api/v1/scorecards/{id}/backtest</c> and <c>/calibrate</c> (admin): how well a scorecard's score would
/// have predicted churn on the stored history, and a fitted proposal that changes nothing until it is PUT.
/// </summary>
internal static class BacktestsApi
{
    /// <summary>Accounts x evaluation days one request may replay (memory and time bound; a larger step lowers it).</summary>
    public const long MaxObservations = 5_000_000;

    /// <summary>The share of accounts held out of the fit and used to judge the proposal.</summary>
    public const double HoldOutShare = 0.3;

    private const string Stored = "stored";
    private const string Replayed = "replayed";

    /// <summary>A proposal is recommended only when it beats the current scorecard on held-out accounts by this AUC.</summary>
    public const double MinHoldOutGain = 0.005;

    public static IEndpointRouteBuilder MapBacktestsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/scorecards").WithTags("Scorecards").RequireAuthorization(Scopes.Admin);
        group.MapPost("/{id}/backtest", BacktestAsync)
            .Accepts<BacktestRequestBody>("application/json")
            .Produces<BacktestResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Backtest a scorecard against the stored history: score AUC, churn per band, lead time, measure AUCs.");
        group.MapPost("/{id}/calibrate", CalibrateAsync)
            .Accepts<BacktestRequestBody>("application/json")
            .Produces<CalibrationResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Propose weights and thresholds fitted to the stored history, judged on held-out accounts; nothing changes until PUT.");
        return routes;
    }

    private static Task<IResult> BacktestAsync(
        string id, HttpRequest request, ScorecardRepository scorecards, BacktestReplay replay, TimeProvider clock, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        return RunAsync(id, request, scorecards, replay, clock, calibrating: false, async job =>
        {
            var result = job.Reference.Scores == Stored
                ? await replay.RunStoredAsync(job.Card, job.Period, job.Accounts, cancellationToken)
                : (await replay.RunAsync(job.Card, job.Period, job.Accounts, withSamples: false, cancellationToken)).Backtest;
            return TypedResults.Ok(BacktestResponse.From(job.Reference, job.View, result, stopwatch.ElapsedMilliseconds));
        }, cancellationToken);
    }

    private static Task<IResult> CalibrateAsync(
        string id, HttpRequest request, ScorecardRepository scorecards, BacktestReplay replay, TimeProvider clock, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        return RunAsync(id, request, scorecards, replay, clock, calibrating: true, job => CalibrateJobAsync(job, replay, stopwatch, cancellationToken), cancellationToken);
    }

    /// <summary>Checks the request, then runs <paramref name="run"/> unless another backtest or calibration is running.</summary>
    private static async Task<IResult> RunAsync(
        string id, HttpRequest request, ScorecardRepository scorecards, BacktestReplay replay, TimeProvider clock, bool calibrating,
        Func<Job, Task<IResult>> run, CancellationToken cancellationToken)
    {
        var (job, error) = await PrepareAsync(id, request, scorecards, replay, clock, calibrating, cancellationToken);
        if (job is null)
        {
            return error!;
        }

        using var gate = await replay.EnterAsync(cancellationToken);
        return gate.Entered ? await run(job) : Busy(request.HttpContext.Response);
    }

    private static async Task<IResult> CalibrateJobAsync(Job job, BacktestReplay replay, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var split = job.Accounts.ToLookup(IsHeldOut);
        var (holdOut, training) = (split[true].ToList(), split[false].ToList());
        var fit = await replay.RunAsync(job.Card, job.Period, training, withSamples: true, cancellationToken);
        var churned = fit.Samples.Count(s => s.Churned);
        if (churned == 0 || churned == fit.Samples.Count)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Not enough history to calibrate",
                detail: $"The {training.Count} training accounts have {fit.Samples.Count} observations in the period, {churned} of them followed by a churn "
                    + "within the horizon: calibration needs both churned and retained observations. Choose a longer period or horizon.");
        }

        var calibration = Calibrator.Calibrate(job.Card, fit.Samples);
        var current = await replay.RunAsync(job.Card, job.Period, holdOut, withSamples: false, cancellationToken);
        var proposed = await replay.RunAsync(calibration.Proposed, job.Period, holdOut, withSamples: false, cancellationToken);
        var better = proposed.Backtest.Auc is { } p && current.Backtest.Auc is { } c && p >= c + MinHoldOutGain;
        return TypedResults.Ok(new CalibrationResponse(
            job.Reference,
            job.View,
            new CalibrationSplit("accounts by a hash of their id", HoldOutShare, training.Count, holdOut.Count),
            calibration.Proposed,
            calibration.Changes,
            new CalibrationFit(calibration.FittedAucCurrent, calibration.FittedAucProposed, calibration.FitSamples, calibration.FitChurned),
            current.Backtest,
            proposed.Backtest,
            better ? "adopt" : "keep",
            better
                ? $"The proposal ranks churners better on accounts it was not fitted on. Nothing was changed: PUT it to /api/v1/scorecards/{job.Card.Id} to adopt it."
                : $"The proposal does not beat the current scorecard by {MinHoldOutGain} AUC on accounts it was not fitted on: keep the current one. Nothing was changed.",
            stopwatch.ElapsedMilliseconds));
    }

    /// <summary>A checked request: the scorecard version, the evaluation days and the accounts in scope.</summary>
    private sealed record Job(Scorecard Card, BacktestScorecardRef Reference, BacktestPeriod Period, BacktestPeriodView View, IReadOnlyList<string> Accounts);

    private static async Task<(Job? Job, IResult? Error)> PrepareAsync(
        string id, HttpRequest http, ScorecardRepository scorecards, BacktestReplay replay, TimeProvider clock, bool calibrating, CancellationToken cancellationToken)
    {
        // Read here rather than bound by the framework, so that the OpenAPI document shows the body's schema
        // (Accepts) and every field error is reported at once.
        var (body, bodyError) = await ReadBodyAsync(http, cancellationToken);
        if (bodyError is not null)
        {
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { [""] = [bodyError] }, detail: "Nothing was run."));
        }

        var (request, errors) = BacktestRequest.Parse(body);
        if (request is null)
        {
            return (null, TypedResults.ValidationProblem(errors, detail: "Nothing was run: fix the fields listed in 'errors'."));
        }

        if (await scorecards.GetAsync(id, request.Version, cancellationToken) is not { } found)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found",
                detail: request.Version is null ? $"No scorecard '{id}'." : $"Scorecard '{id}' has no version {request.Version}."));
        }

        // An observation is labelled only once its whole horizon has passed (churn is known after the fact).
        var today = UtcDay.Of(clock.GetUtcNow());
        var lastDay = Math.Min(UtcDay.FromDate(request.To), today - request.HorizonDays);
        var fromDay = UtcDay.FromDate(request.From);
        if (lastDay < fromDay)
        {
            return (null, TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["horizonDays"] = [$"the {request.HorizonDays} days after 'from' have not all passed yet, so no day of the period can be labelled; choose an earlier period or a shorter horizon"] },
                detail: "Nothing was run: fix the fields listed in 'errors'."));
        }

        // Evaluation days fall on the step grid from 'from'; the last one on or before lastDay.
        var period = new BacktestPeriod(fromDay, lastDay - (lastDay - fromDay) % request.StepDays, request.HorizonDays, request.StepDays);
        // Without a version the current one was read: live by definition; with one, compare with the current.
        var live = request.Version is null || (await scorecards.GetAsync(id, null, cancellationToken))!.Scorecard.Version == found.Scorecard.Version;
        // The live version's own snapshots are read as stored; anything else (or a calibration, which needs the raw
        // measure values) is replayed over the aggregates for the accounts the scorecard's rule matches.
        var scores = live && !request.Replay && !calibrating ? Stored : Replayed;
        var accounts = await replay.AccountsInScopeAsync(found.Scorecard, period, byRule: scores == Replayed, cancellationToken);
        if ((long)accounts.Count * period.EvaluationDays > MaxObservations)
        {
            return (null, TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["stepDays"] = [$"{accounts.Count} accounts x {period.EvaluationDays} evaluation days exceed the limit of {MaxObservations:N0} observations; choose a larger step or a shorter period"] },
                detail: "Nothing was run: fix the fields listed in 'errors'."));
        }

        var view = new BacktestPeriodView(request.From, request.To, UtcDay.ToDate(period.ToDay), request.HorizonDays, request.StepDays, period.EvaluationDays);
        return (new Job(found.Scorecard, new BacktestScorecardRef(found.Scorecard.Id, found.Scorecard.Version, live, scores), period, view, accounts), null);
    }

    /// <summary>The JSON body, at most <see cref="MaxBodyBytes"/>; an error message instead when it is too large or not JSON.</summary>
    private static async Task<(JsonElement Body, string? Error)> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return (default, $"the body exceeds {MaxBodyBytes / 1024} KiB");
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return (JsonDocument.Parse(buffer.ToArray()).RootElement, null);
        }
        catch (JsonException ex)
        {
            return (default, $"the body is not valid JSON: {ex.Message}");
        }
    }

    private const int MaxBodyBytes = 16 * 1024;

    private static IResult Busy(HttpResponse response)
    {
        response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "A backtest is already running",
            detail: "Backtests and calibrations run one at a time (each uses every core for seconds). Retry when the running one has finished.");
    }

    /// <summary>About <see cref="HoldOutShare"/> of accounts, the same ones on every run (a hash of the id, not a random draw).</summary>
    internal static bool IsHeldOut(string accountId) =>
        BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(accountId)), 0) % 100 < HoldOutShare * 100;
}
