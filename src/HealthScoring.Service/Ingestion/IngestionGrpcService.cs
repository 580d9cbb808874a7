using HealthScoring.Protos.V1;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Grpc;
using HealthScoring.Service.Hosting;
using HealthScoring.Service.Storage;
using StatusCode = HealthScoring.Service.Grpc.StatusCode;

namespace HealthScoring.Service.Ingestion;

/// <summary>
/// healthscoring.v1.IngestionService: validates each event, hands the valid ones to the group-commit
/// writer and answers once they are durable. Generated protobuf types stay here, at the edge.
/// </summary>
internal sealed class IngestionGrpcService(
    EventValidator validator,
    IngestionWriter writer,
    StoreReadiness readiness,
    KeyRateLimiter rateLimiter,
    IngestionOptions options) : IGrpcService
{
    private const string Service = "/healthscoring.v1.IngestionService/";

    public IEnumerable<GrpcMethod> Methods() =>
    [
        GrpcMethod.Unary<IngestRequest, IngestResponse>(Service + "Ingest", Scopes.Ingest, IngestRequest.Parser, IngestAsync),
        GrpcMethod.ClientStreaming<IngestRequest, IngestResponse>(Service + "IngestStream", Scopes.Ingest, IngestRequest.Parser, IngestStreamAsync),
    ];

    private Task<IngestResponse> IngestAsync(IngestRequest request, GrpcCallContext context) => TracedAsync("Ingest", async response =>
        await IngestBatchAsync(request, 0, response, context));

    private Task<IngestResponse> IngestStreamAsync(IAsyncEnumerable<IngestRequest> requests, GrpcCallContext context) => TracedAsync("IngestStream", async response =>
    {
        var offset = 0;
        await foreach (var request in requests.WithCancellation(context.CancellationToken))
        {
            await IngestBatchAsync(request, offset, response, context);
            offset += request.Events.Count;
        }
    });

    /// <summary>One span and one duration per call, with the call's counts; the event counters by outcome.</summary>
    private static async Task<IngestResponse> TracedAsync(string method, Func<IngestResponse, Task> ingest)
    {
        using var activity = Telemetry.Source.StartActivity("healthscoring.ingest " + method, System.Diagnostics.ActivityKind.Server);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var response = new IngestResponse();
        var status = "OK";
        try
        {
            await ingest(response);
            return response;
        }
        catch (RpcException ex)
        {
            status = ex.Status.ToString();
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            activity?.SetTag("rpc.method", method);
            activity?.SetTag("rpc.grpc.status", status);
            activity?.SetTag("healthscoring.events.accepted", response.Accepted);
            activity?.SetTag("healthscoring.events.duplicates", response.Duplicates);
            activity?.SetTag("healthscoring.events.rejected", response.Rejected.Count);
            Telemetry.IngestEvents.Add(response.Accepted, new KeyValuePair<string, object?>("outcome", "accepted"));
            Telemetry.IngestEvents.Add(response.Duplicates, new KeyValuePair<string, object?>("outcome", "duplicate"));
            Telemetry.IngestEvents.Add(response.Rejected.Count, new KeyValuePair<string, object?>("outcome", "rejected"));
            Telemetry.IngestDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("status", status));
        }
    }

    /// <summary>Stores one batch's valid events and adds its counts to the response (indexes from <paramref name="offset"/>).</summary>
    private async Task IngestBatchAsync(IngestRequest request, int offset, IngestResponse response, GrpcCallContext context)
    {
        if (request.Events.Count == 0)
        {
            throw new RpcException(StatusCode.InvalidArgument, "The batch has no events: send 1 to " + options.MaxBatchEvents + " events per IngestRequest.");
        }

        if (request.Events.Count > options.MaxBatchEvents)
        {
            throw new RpcException(StatusCode.InvalidArgument,
                $"The batch has {request.Events.Count} events; at most {options.MaxBatchEvents} are allowed per IngestRequest. Split it.");
        }

        if (context.Caller is { } caller && rateLimiter.TryEvents(caller.Id, request.Events.Count) is { } wait)
        {
            throw RpcException.RetryLater(StatusCode.ResourceExhausted,
                $"This API key is limited to {rateLimiter.Options.EventsPerSecond} events per second (bursts of {rateLimiter.Options.EventBurst}); nothing of this batch was stored. Retry it later.", wait);
        }

        if (readiness.Problem is { } problem)
        {
            throw RpcException.RetryLater(StatusCode.Unavailable, problem + " Nothing was stored; retry later.", options.RetryAfter);
        }

        var now = validator.Now();
        var valid = new List<UsageEvent>(request.Events.Count);
        for (var i = 0; i < request.Events.Count; i++)
        {
            if (validator.Validate(request.Events[i], offset + i, now, out var rejection) is { } e)
            {
                valid.Add(e);
            }
            else
            {
                response.Rejected.Add(new EventRejection
                {
                    Index = rejection!.Index,
                    EventId = rejection.EventId,
                    Field = rejection.Field,
                    Reason = rejection.Reason,
                });
            }
        }

        BatchOutcome outcome;
        try
        {
            outcome = await writer.SubmitAsync(valid, context.CancellationToken);
        }
        catch (IngestionOverloadedException ex)
        {
            throw RpcException.RetryLater(StatusCode.ResourceExhausted, ex.Message + " Retry the same batch; it will not be counted twice.", ex.RetryAfter);
        }
        catch (IngestionUnavailableException ex)
        {
            throw RpcException.RetryLater(StatusCode.Unavailable, ex.Message, options.RetryAfter);
        }

        response.Accepted += outcome.Accepted;
        response.Duplicates += outcome.Duplicates;
    }
}
