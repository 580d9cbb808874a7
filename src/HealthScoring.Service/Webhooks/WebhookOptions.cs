using System.ComponentModel.DataAnnotations;

namespace HealthScoring.Service.Webhooks;

/// <summary><c>HealthScoring:Webhooks</c>: how deliveries are sent, retried and cut off.</summary>
internal sealed class WebhookOptions
{
    public const string Section = "HealthScoring:Webhooks";

    /// <summary>How often the dispatcher looks for due deliveries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>One HTTP attempt's limit: a slow receiver counts as failed after this.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Quick retries within one round (exponential, with jitter) before the delivery is rescheduled.</summary>
    [Range(0, 5)]
    public int ImmediateRetries { get; set; } = 2;

    /// <summary>The first durable retry's delay; each further one doubles, up to <see cref="MaxRetryDelay"/>, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rounds before a delivery is given up ("failed" in the log); the default spans about a day.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 30;

    /// <summary>Deliveries sent at once.</summary>
    [Range(1, 64)]
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>Circuit breaker per endpoint: opens when this share of recent attempts failed ...</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>... out of at least this many within <see cref="BreakerSamplingDuration"/> ...</summary>
    [Range(2, 1000)]
    public int BreakerMinimumThroughput { get; set; } = 5;

    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>... and stays open this long: deliveries to the endpoint wait instead of piling onto it.</summary>
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Plain http:// URLs are refused unless allowed (deliveries carry account data).</summary>
    public bool AllowHttp { get; set; }
}
