using System.Security.Cryptography;
using System.Text;

namespace HealthScoring.Service.Auth;

/// <summary>
/// API key secrets: 32 random bytes, shown once, stored only as their SHA-256. A fast hash is right
/// here (unlike for passwords) because the secret has 256 bits of entropy: there is nothing to guess.
/// </summary>
internal static class ApiKeySecret
{
    public const string Prefix = "hs_";

    public static string New() => Prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static string NewId() => "key_" + Base64UrlEncode(RandomNumberGenerator.GetBytes(9));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
