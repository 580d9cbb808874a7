using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Storage;

/// <summary>
/// The accepted events of one group commit as <c>ingest_pending.events</c> stores them until they are folded into
/// the aggregates: only what the aggregates need (account, user, name, time, quantity). Each distinct string is
/// written once (a group repeats names and users); events refer to it by index.
/// Layout: a version byte (1); varint string count, then each string as varint UTF-8 length and bytes; varint event
/// count, then per event varint account index, varint name index, varint user index + 1 (0: none), int64 occurred-at
/// Unix ms and float64 quantity, both little-endian. Anything else is refused with <see cref="InvalidDataException"/>.
/// </summary>
internal static class JournalCodec
{
    private const byte Version = 1;

    public static byte[] Encode(IReadOnlyList<UsageEvent> events)
    {
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        int Index(string s)
        {
            if (!strings.TryGetValue(s, out var i))
            {
                i = strings.Count;
                strings.Add(s, i);
                order.Add(s);
            }

            return i;
        }

        var refs = new (int Account, int Name, int User)[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            refs[i] = (Index(e.AccountId), Index(e.Name), e.UserId is { } user ? Index(user) + 1 : 0);
        }

        var buffer = new ArrayBufferWriter<byte>(64 + events.Count * 24);
        buffer.GetSpan(1)[0] = Version;
        buffer.Advance(1);
        WriteVarint(buffer, order.Count);
        foreach (var s in order)
        {
            var length = Encoding.UTF8.GetByteCount(s);
            WriteVarint(buffer, length);
            Encoding.UTF8.GetBytes(s, buffer.GetSpan(length));
            buffer.Advance(length);
        }

        WriteVarint(buffer, events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            WriteVarint(buffer, refs[i].Account);
            WriteVarint(buffer, refs[i].Name);
            WriteVarint(buffer, refs[i].User);
            var span = buffer.GetSpan(16);
            BinaryPrimitives.WriteInt64LittleEndian(span, events[i].OccurredAt.ToUnixTimeMilliseconds());
            BinaryPrimitives.WriteDoubleLittleEndian(span[8..], events[i].Quantity);
            buffer.Advance(16);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Adds every event of <paramref name="blob"/> to <paramref name="delta"/>; returns how many there were.</summary>
    public static int DecodeInto(ReadOnlySpan<byte> blob, UsageDelta delta)
    {
        try
        {
            return Decode(blob, delta);
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"A journal blob of {blob.Length} bytes is damaged: {ex.Message}", ex);
        }
    }

    private static int Decode(ReadOnlySpan<byte> blob, UsageDelta delta)
    {
        if (blob.Length == 0 || blob[0] != Version)
        {
            throw new InvalidDataException($"A journal blob has format version {(blob.Length == 0 ? "(none)" : blob[0])}; this service reads version {Version}.");
        }

        var position = 1;
        var stringCount = ReadVarint(blob, ref position);
        if (stringCount > blob.Length - position)
        {
            throw new InvalidDataException($"A journal blob claims {stringCount} strings in {blob.Length - position} bytes.");
        }

        var strings = new string[stringCount];
        for (var i = 0; i < strings.Length; i++)
        {
            var length = ReadVarint(blob, ref position);
            strings[i] = Encoding.UTF8.GetString(blob.Slice(position, length));
            position += length;
        }

        var count = ReadVarint(blob, ref position);
        if (count > (blob.Length - position) / 19)
        {
            throw new InvalidDataException($"A journal blob claims {count} events in {blob.Length - position} bytes.");
        }

        for (var i = 0; i < count; i++)
        {
            var account = strings[ReadVarint(blob, ref position)];
            var name = strings[ReadVarint(blob, ref position)];
            var user = ReadVarint(blob, ref position);
            var at = BinaryPrimitives.ReadInt64LittleEndian(blob[position..]);
            var quantity = BinaryPrimitives.ReadDoubleLittleEndian(blob[(position + 8)..]);
            position += 16;
            delta.Add(account, name, user == 0 ? null : strings[user - 1], at, quantity);
        }

        if (position != blob.Length)
        {
            throw new InvalidDataException($"A journal blob has {blob.Length - position} bytes after its {count} events.");
        }

        return count;
    }

    private static void WriteVarint(ArrayBufferWriter<byte> buffer, int value)
    {
        var span = buffer.GetSpan(5);
        var n = 0;
        var v = (uint)value;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }

        span[n++] = (byte)v;
        buffer.Advance(n);
    }

    private static int ReadVarint(ReadOnlySpan<byte> blob, ref int position)
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = blob[position++];
            if (shift == 28 && b > 0x07)
            {
                break; // more than 31 bits
            }

            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return (int)value;
            }
        }

        throw new InvalidDataException("A journal blob holds a malformed varint.");
    }
}
