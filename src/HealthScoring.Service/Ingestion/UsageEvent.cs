using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace HealthScoring.Service.Ingestion;

/// <summary>A validated usage event, as the service keeps it. Quantity is already normalised (0 became 1).</summary>
internal sealed record UsageEvent(
    string AccountId,
    string EventId,
    string? UserId,
    string Name,
    DateTimeOffset OccurredAt,
    double Quantity)
{
    public IdempotencyKey Key { get; } = IdempotencyKey.For(AccountId, EventId);

    /// <summary>The UTC day the event belongs to, in days since 1970-01-01.</summary>
    public int Day => UtcDay.Of(OccurredAt);
}

/// <summary>
/// The idempotency key of an event: the first 128 bits of SHA-256 over the length-prefixed account and
/// event ids. Fixed width keeps the dedupe index small; a chance collision needs ~2^64 keys.
/// </summary>
internal readonly record struct IdempotencyKey(UInt128 Value)
{
    public static IdempotencyKey For(string accountId, string eventId)
    {
        var length = 8 + Encoding.UTF8.GetMaxByteCount(accountId.Length + eventId.Length);
        Span<byte> buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        var a = Encoding.UTF8.GetBytes(accountId, buffer[4..]);
        BinaryPrimitives.WriteInt32BigEndian(buffer, a);
        var e = Encoding.UTF8.GetBytes(eventId, buffer[(8 + a)..]);
        BinaryPrimitives.WriteInt32BigEndian(buffer[(4 + a)..], e);
        Span<byte> hash = stackalloc byte[32];
        var sha = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(buffer[..(8 + a + e)]);
        sha.GetHashAndReset(hash);
        return new IdempotencyKey(BinaryPrimitives.ReadUInt128BigEndian(hash));
    }

    /// <summary>
    /// One hasher per thread, reset after each key: the one-shot SHA256.HashData sets up OpenSSL's digest context on
    /// every call, about 1 µs for these few bytes against 0.6-0.85 µs reused (measured), and every event pays it.
    /// </summary>
    [ThreadStatic]
    private static IncrementalHash? t_sha256;

    public byte[] ToBytes()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, Value);
        return bytes;
    }

    public static IdempotencyKey FromBytes(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt128BigEndian(bytes));
}

internal static class UtcDay
{
    public static int Of(DateTimeOffset time) => OfMs(time.ToUnixTimeMilliseconds());

    public static int OfMs(long unixMs) => (int)Math.Floor(unixMs / 86_400_000d);

    public static DateOnly ToDate(int day) => DateOnly.FromDayNumber(Epoch + day);

    public static int FromDate(DateOnly date) => date.DayNumber - Epoch;

    private static readonly int Epoch = new DateOnly(1970, 1, 1).DayNumber;
}
