using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace HealthScoring.Service.Webhooks;

/// <summary>
/// The signature a receiver checks: <c>HealthScoring-Signature: t={unix seconds},v1={hex HMAC-SHA256}</c> over
/// <c>{t}.{body}</c> with the subscription's secret. Receivers recompute it, compare in constant time and reject
/// timestamps too far from their clock (replays).
/// </summary>
internal static class WebhookSignature
{
    public const string Header = "HealthScoring-Signature";
    public const string DeliveryHeader = "HealthScoring-Delivery";
    public const string EventHeader = "HealthScoring-Event";
    public const string TimestampHeader = "HealthScoring-Timestamp";

    public static string Sign(string secret, long timestamp, string body)
    {
        var t = timestamp.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
