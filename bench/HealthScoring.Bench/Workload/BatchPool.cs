using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HealthScoring.Protos.V1;
using HealthScoring.Service.Ingestion;
using ServiceEvent = HealthScoring.Service.Ingestion.UsageEvent;
using WireEvent = HealthScoring.Protos.V1.UsageEvent;

namespace HealthScoring.Bench.Workload;

/// <summary>
/// The distinct batches every phase draws from (round robin). Events are spread uniformly over the
/// accounts, happened within the last two days, and follow <see cref="EventMix"/>; nine in ten name one of
/// the account's users, a quarter carry a property or two. Deterministic for a given seed.
/// </summary>
internal sealed class BatchPool
{
    private readonly BatchTemplate[] _templates;
    private long _next = -1;

    private BatchPool(BatchTemplate[] templates) => _templates = templates;

    public int BatchSize => _templates[0].EventCount;

    public int MaxFrameLength { get; private init; }

    public double AverageFrameLength => _templates.Average(t => t.Length);

    public BatchTemplate Next() => _templates[(int)(Interlocked.Increment(ref _next) % _templates.Length)];

    public static BatchPool Create(BenchOptions options, DateTimeOffset now, int seed = 20_240_601)
    {
        var random = new Random(seed);
        var validator = new EventValidator(new IngestionOptions(), TimeProvider.System);
        var templates = new BatchTemplate[options.Templates];
        for (var t = 0; t < templates.Length; t++)
        {
            var request = new IngestRequest();
            for (var i = 0; i < options.Batch; i++)
            {
                request.Events.Add(NewEvent(random, options, now, EventIds.Format((long)t * options.Batch + i)));
            }

            templates[t] = Template(request, validator, now);
        }

        return new BatchPool(templates) { MaxFrameLength = templates.Max(x => x.Length) };
    }

    private static WireEvent NewEvent(Random random, BenchOptions options, DateTimeOffset now, string eventId)
    {
        var kind = EventMix.Pick(random, options.Names);
        var e = new WireEvent
        {
            EventId = eventId,
            AccountId = "acct-" + random.Next(options.Accounts).ToString("D5", System.Globalization.CultureInfo.InvariantCulture),
            UserId = random.Next(10) == 0 ? "" : "user-" + random.Next(options.UsersPerAccount).ToString("D3", System.Globalization.CultureInfo.InvariantCulture),
            Name = kind.Name,
            OccurredAt = Timestamp.FromDateTimeOffset(now - TimeSpan.FromSeconds(random.NextDouble() * 2 * 86_400)),
            Quantity = kind.MaxQuantity == 0 ? 0 : 1 + random.Next(kind.MaxQuantity),
        };
        if (random.Next(4) == 0)
        {
            e.Properties["source"] = random.Next(3) switch { 0 => "web", 1 => "mobile", _ => "api" };
            if (random.Next(2) == 0)
            {
                e.Properties["plan_feature"] = "feature-" + random.Next(20).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return e;
    }

    /// <summary>Frames the request and finds each id's digits in it, checking the service would accept every event.</summary>
    private static BatchTemplate Template(IngestRequest request, EventValidator validator, DateTimeOffset now)
    {
        var payload = request.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);

        var offsets = new int[request.Events.Count];
        var events = new List<ServiceEvent>(request.Events.Count);
        var from = 0;
        for (var i = 0; i < request.Events.Count; i++)
        {
            var id = Encoding.ASCII.GetBytes(request.Events[i].EventId);
            var at = frame.AsSpan(from).IndexOf(id);
            if (at < 0)
            {
                throw new InvalidOperationException($"Event id {request.Events[i].EventId} not found in its serialized batch.");
            }

            offsets[i] = from + at + EventIds.Prefix.Length;
            from += at + id.Length;
            events.Add(validator.Validate(request.Events[i], i, now, out var rejection)
                ?? throw new InvalidOperationException($"The workload built an invalid event: {rejection}"));
        }

        return new BatchTemplate(frame, offsets, events);
    }
}
