using System.Globalization;

namespace HealthScoring.Bench.Workload;

/// <summary>
/// Event ids of fixed width (<c>evt-</c> and 16 hex digits), so a fresh id can be written over an old one
/// inside a serialized request without changing any protobuf length. One sequence per run: every id sent
/// is unique, so every OK call must report all of its events accepted.
/// </summary>
internal sealed class EventIds
{
    public const string Prefix = "evt-";
    public const int Digits = 16;

    private long _next;

    /// <summary>Reserves <paramref name="count"/> consecutive sequence numbers and returns the first.</summary>
    public long Reserve(int count) => Interlocked.Add(ref _next, count) - count;

    public static string Format(long sequence) => Prefix + sequence.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Writes the 16 hex digits of <paramref name="sequence"/> as ASCII (the same text as <see cref="Format"/>).</summary>
    public static void WriteDigits(Span<byte> destination, long sequence)
    {
        for (var i = Digits - 1; i >= 0; i--)
        {
            destination[i] = (byte)"0123456789abcdef"[(int)(sequence & 0xF)];
            sequence >>= 4;
        }
    }
}
