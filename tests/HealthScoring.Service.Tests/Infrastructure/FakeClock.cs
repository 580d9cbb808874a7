namespace HealthScoring.Service.Tests.Infrastructure;

/// <summary>A clock the test sets; never the wall clock.</summary>
internal sealed class FakeClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
