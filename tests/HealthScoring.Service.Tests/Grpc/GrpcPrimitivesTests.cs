using HealthScoring.Service.Grpc;

namespace HealthScoring.Service.Tests.Grpc;

public sealed class GrpcPrimitivesTests
{
    [TestCase("1S", 1000)]
    [TestCase("250m", 250)]
    [TestCase("2M", 120_000)]
    [TestCase("1H", 3_600_000)]
    [TestCase("5000u", 5)]
    [TestCase("99999999n", 99.999999)]
    public void Timeout_ValidValue_Parses(string header, double milliseconds)
    {
        Assert.That(GrpcTimeout.TryParse(header, out var timeout), Is.True);
        Assert.That(timeout.TotalMilliseconds, Is.EqualTo(milliseconds).Within(0.0001));
    }

    [TestCase("")]
    [TestCase("S")]
    [TestCase("10")]
    [TestCase("1s")]
    [TestCase("-1S")]
    [TestCase("123456789S")]
    public void Timeout_InvalidValue_IsRefused(string header) =>
        Assert.That(GrpcTimeout.TryParse(header, out _), Is.False);

    [Test]
    public void Message_IsPercentEncodedOutsidePrintableAscii() =>
        Assert.That(GrpcMessageEncoding.Encode("100% sûr\n"), Is.EqualTo("100%25 s%C3%BBr%0A"));
}
