using System.Text;

namespace HealthScoring.Service.Grpc;

/// <summary>Percent-encoding of <c>grpc-message</c> (PROTOCOL-HTTP2: UTF-8, then every byte outside 0x20-0x7E and '%' as %XX).</summary>
internal static class GrpcMessageEncoding
{
    public static string Encode(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
