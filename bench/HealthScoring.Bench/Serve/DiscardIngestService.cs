using HealthScoring.Protos.V1;
using HealthScoring.Service.Auth;
using HealthScoring.Service.Grpc;
using HealthScoring.Service.Ingestion;
using UsageEvent = HealthScoring.Service.Ingestion.UsageEvent;

namespace HealthScoring.Bench.Serve;

/// <summary>
/// The protocol ceiling's <c>Ingest</c>: the request is framed and parsed by the service's gRPC layer, each
/// event goes through the service's <see cref="EventValidator"/> (which builds the record and its
/// idempotency key), and then everything is dropped. What is left is the cost of everything but storing.
/// </summary>
internal sealed class DiscardIngestService(EventValidator validator) : IGrpcService
{
    public IEnumerable<GrpcMethod> Methods() =>
    [
        GrpcMethod.Unary<IngestRequest, IngestResponse>(
            "/healthscoring.v1.IngestionService/Ingest", Scopes.Ingest, IngestRequest.Parser, IngestAsync),
    ];

    private Task<IngestResponse> IngestAsync(IngestRequest request, GrpcCallContext context)
    {
        var now = validator.Now();
        var valid = new List<UsageEvent>(request.Events.Count);
        var response = new IngestResponse();
        for (var i = 0; i < request.Events.Count; i++)
        {
            if (validator.Validate(request.Events[i], i, now, out var rejection) is { } e)
            {
                valid.Add(e);
            }
            else
            {
                response.Rejected.Add(new EventRejection { Index = i, EventId = rejection!.EventId, Field = rejection.Field, Reason = rejection.Reason });
            }
        }

        response.Accepted = valid.Count;
        return Task.FromResult(response);
    }
}
