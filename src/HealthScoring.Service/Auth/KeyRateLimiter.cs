using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Auth;

/// <summary><c>HealthScoring:RateLimits</c>: per API key, a token bucket each for REST requests and ingested events (0 = no limit).</summary>
internal sealed class RateLimitOptions
{
    public const string Section = "HealthScoring:RateLimits";

    [Range(0, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 200;

    /// <summary>Requests a key may make at once after a quiet spell.</summary>
    [Range(1, 10_000_000)]
    public int RequestBurst { get; set; } = 400;

    [Range(0, 100_000_000)]
    public int EventsPerSecond { get; set; } = 200_000;

    /// <summary>At least the largest batch (MaxBatchEvents), or such a batch could never pass.</summary>
    [Range(1, 1_000_000_000)]
    public int EventBurst { get; set; } = 400_000;
}

/// <summary>
/// Per-key rate limits: one client cannot take the service from the others. REST requests over the limit get 429
/// with <c>Retry-After</c>; ingest calls over the event limit get <c>RESOURCE_EXHAUSTED</c> with
/// <c>grpc-retry-pushback-ms</c>. Nothing of a refused call is stored; retrying it later is safe.
/// </summary>
internal sealed class KeyRateLimiter(RateLimitOptions options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _requests = Create(options.RequestsPerSecond, options.RequestBurst);
    private readonly PartitionedRateLimiter<string> _events = Create(options.EventsPerSecond, options.EventBurst);

    public RateLimitOptions Options => options;

    /// <summary>Null when the call may proceed; otherwise how long to wait.</summary>
    public TimeSpan? TryRequest(string keyId) => Acquire(_requests, keyId, 1);

    public TimeSpan? TryEvents(string keyId, int events) => Acquire(_events, keyId, Math.Max(1, events));

    private static TimeSpan? Acquire(PartitionedRateLimiter<string> limiter, string keyId, int permits)
    {
        using var lease = limiter.AttemptAcquire(keyId, permits);
        return lease.IsAcquired ? null
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    private static PartitionedRateLimiter<string> Create(int perSecond, int burst) => PartitionedRateLimiter.Create<string, string>(key =>
        perSecond <= 0
            ? RateLimitPartition.GetNoLimiter(key)
            : RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(burst, 1),
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));

    /// <summary>REST middleware: after authentication, before the endpoints; anonymous calls are left to auth (401).</summary>
    public static async Task LimitRestAsync(HttpContext context, RequestDelegate next)
    {
        var keyId = context.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim);
        var limiter = context.RequestServices.GetRequiredService<KeyRateLimiter>();
        if (keyId is not null && limiter.TryRequest(keyId) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too Many Requests",
                    Detail = $"This API key is limited to {limiter.Options.RequestsPerSecond} requests per second (bursts of {limiter.Options.RequestBurst}); retry after {seconds} s.",
                },
            });
            return;
        }

        await next(context);
    }

    public void Dispose()
    {
        _requests.Dispose();
        _events.Dispose();
    }
}
