using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using HealthScoring.Service.Hosting;
using HealthScoring.Service.Storage;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace HealthScoring.Service.Webhooks;

/// <summary>
/// Sends the outbox: every pending delivery whose time has come, a few at once. Each endpoint has its own Polly
/// pipeline (quick retries with exponential backoff and jitter, a circuit breaker, a per-attempt timeout); a
/// delivery that still fails is rescheduled in the store with a growing, jittered delay, so retries survive
/// restarts. At least once: a receiver may see a delivery twice (drop repeats by the delivery id), never zero
/// times while it keeps coming back within the retry span. Runs apart from ingestion and scoring: a dead or slow
/// receiver only delays its own deliveries.
/// </summary>
internal sealed partial class WebhookDispatcher(
    WebhookRepository repository,
    IHttpClientFactory httpClients,
    StoreReadiness readiness,
    WebhookOptions options,
    TimeProvider clock,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _pipelines = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                if (readiness.IsReady)
                {
                    sent = await RunOnceAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRoundFailed(logger, ex);
            }

            if (sent == 0)
            {
                await Task.Delay(options.PollInterval, clock, stoppingToken);
            }
        }
    }

    /// <summary>Sends the deliveries due now; returns how many were attempted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        // Claimed for longer than a round can take (every try timing out, plus the quick retries' waits).
        var now = clock.GetUtcNow();
        var lease = now + (options.Timeout * (options.ImmediateRetries + 1)) + TimeSpan.FromSeconds(5 * (options.ImmediateRetries + 1));
        var due = await repository.DueAsync(now.ToUnixTimeMilliseconds(), options.MaxConcurrency * 8, cancellationToken, lease.ToUnixTimeMilliseconds());
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrency, CancellationToken = cancellationToken },
            async (item, ct) => await SendAsync(item.Delivery, item.Webhook, ct));
        return due.Count;
    }

    private async Task SendAsync(Delivery delivery, Webhook webhook, CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity("healthscoring.webhook.deliver", System.Diagnostics.ActivityKind.Client);
        activity?.SetTag("healthscoring.webhook.id", webhook.Id);
        activity?.SetTag("healthscoring.delivery.id", delivery.Id);
        activity?.SetTag("healthscoring.delivery.event", delivery.EventType);
        var outcome = "failed";
        try
        {
            outcome = await AttemptAsync(delivery, webhook, cancellationToken);
        }
        finally
        {
            activity?.SetTag("healthscoring.delivery.outcome", outcome);
            if (outcome != "delivered")
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, outcome);
            }

            Telemetry.WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>The last error of a delivery held back because its endpoint's circuit is open.</summary>
    public const string PostponedReason = "Not sent: recent deliveries to this endpoint failed and its circuit is open; it is tried again when the circuit closes";

    /// <summary>One round for one delivery; returns its outcome: delivered, failed (will retry), gave_up or postponed.</summary>
    private async Task<string> AttemptAsync(Delivery delivery, Webhook webhook, CancellationToken cancellationToken)
    {
        var body = Envelope(delivery);
        var tries = 0;
        try
        {
            using var response = await Pipeline(webhook).ExecuteAsync(async ct =>
            {
                Interlocked.Increment(ref tries);
                using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url)
                {
                    Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
                };
                var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
                request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id);
                request.Headers.Add(WebhookSignature.EventHeader, delivery.EventType);
                request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
                request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(webhook.Secret, timestamp, body));
                return await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            }, cancellationToken);

            if (response.IsSuccessStatusCode)
            {
                await repository.RecordAttemptAsync(delivery.Id, true, (int)response.StatusCode, null, null, CancellationToken.None);
                return "delivered";
            }

            return await FailedAsync(delivery, (int)response.StatusCode, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", tries);
        }
        catch (BrokenCircuitException broken) when (tries == 0)
        {
            // The endpoint's circuit is open: no attempt was made (none is counted); try again when it may have closed.
            // The delivery shows why it waits, also when it has never been sent.
            var wait = broken.RetryAfter ?? options.BreakerBreakDuration;
            await repository.PostponeAsync(delivery.Id, clock.GetUtcNow().Add(wait).ToUnixTimeMilliseconds(), PostponedReason, CancellationToken.None);
            return "postponed";
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return await FailedAsync(delivery, null, ex is TimeoutRejectedException ? $"No response within {options.Timeout.TotalSeconds:0.#} s" : ex.Message, tries);
        }
    }

    private async Task<string> FailedAsync(Delivery delivery, int? status, string error, int tries)
    {
        var attempts = (int)delivery.Attempts + 1;
        long? next = attempts >= options.MaxAttempts ? null : clock.GetUtcNow().Add(RetryDelay(attempts)).ToUnixTimeMilliseconds();
        LogDeliveryFailed(logger, delivery.Id, delivery.WebhookId, tries, error, next is null ? "giving up" : "will retry");
        await repository.RecordAttemptAsync(delivery.Id, false, status, error, next, CancellationToken.None);
        return next is null ? "gave_up" : "failed";
    }

    /// <summary>Exponential (base x 2^(n-1), capped) with "equal jitter": between half and all of it.</summary>
    internal TimeSpan RetryDelay(int attempts)
    {
        var exponential = options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30));
        var capped = Math.Min(exponential, options.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped / 2 + Random.Shared.NextDouble() * capped / 2);
    }

    /// <summary>The body sent: the delivery id (for receivers to drop repeats), the event type and time, and its data.</summary>
    internal static string Envelope(Delivery delivery)
    {
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(delivery.CreatedAt).UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        return $$"""{"id":"{{delivery.Id}}","type":"{{delivery.EventType}}","createdAt":"{{createdAt}}","data":{{delivery.Payload}}}""";
    }

    private ResiliencePipeline<HttpResponseMessage> Pipeline(Webhook webhook) => _pipelines.GetOrAdd(webhook.Id + "\n" + webhook.Url, _ =>
    {
        var failure = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(r => (int)r.StatusCode >= 500 || (int)r.StatusCode == 429 || (int)r.StatusCode == 408);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = clock };
        if (options.ImmediateRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = failure,
                MaxRetryAttempts = options.ImmediateRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
            });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = failure,
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakerBreakDuration,
            })
            .AddTimeout(options.Timeout)
            .Build();
    });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} to {WebhookId} failed after {Tries} tries: {Error}; {Next}")]
    private static partial void LogDeliveryFailed(ILogger logger, string deliveryId, string webhookId, int tries, string error, string next);

    [LoggerMessage(Level = LogLevel.Error, Message = "A webhook dispatch round failed; it will be retried")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
