using ServiceEvent = HealthScoring.Service.Ingestion.UsageEvent;

namespace HealthScoring.Bench.Workload;

/// <summary>
/// One pre-serialized batch: the framed gRPC request body (5-byte prefix + IngestRequest) and where each
/// event's id digits sit in it, plus the same events as the service's validated records (for the storage
/// phase). <see cref="Stamp"/> makes a copy with fresh, unique ids at the cost of a memcpy.
/// </summary>
internal sealed class BatchTemplate(byte[] frame, int[] idDigitOffsets, IReadOnlyList<ServiceEvent> events)
{
    public int Length => frame.Length;

    public int EventCount => idDigitOffsets.Length;

    /// <summary>The events as validated by the service's EventValidator (template ids).</summary>
    public IReadOnlyList<ServiceEvent> Events { get; } = events;

    /// <summary>Copies the body into <paramref name="destination"/> with ids firstSequence, firstSequence+1, ...</summary>
    public void Stamp(Span<byte> destination, long firstSequence)
    {
        frame.CopyTo(destination);
        for (var i = 0; i < idDigitOffsets.Length; i++)
        {
            EventIds.WriteDigits(destination[idDigitOffsets[i]..], firstSequence + i);
        }
    }

    /// <summary>The same events as fresh service records with ids firstSequence, firstSequence+1, ...</summary>
    public List<ServiceEvent> Restamp(long firstSequence)
    {
        var copies = new List<ServiceEvent>(Events.Count);
        for (var i = 0; i < Events.Count; i++)
        {
            var e = Events[i];
            copies.Add(new ServiceEvent(e.AccountId, EventIds.Format(firstSequence + i), e.UserId, e.Name, e.OccurredAt, e.Quantity));
        }

        return copies;
    }
}
