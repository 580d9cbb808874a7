using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using HealthScoring.Service.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Webhooks;

/// <summary>A subscription as shown: never its secret.</summary>
internal sealed record WebhookResponse(string Id, string Url, IReadOnlyList<string> Events, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static WebhookResponse From(Webhook w) => new(w.Id, w.Url, w.Events, w.CreatedAt.UtcDateTime, w.UpdatedAt.UtcDateTime);
}

internal sealed record DeliveryResponse(
    string Id, string Event, string State, int Attempts, DateTime CreatedAt, DateTime? LastAttemptAt, int? LastStatus, string? LastError,
    DateTime? NextAttemptAt, DateTime? DeliveredAt, JsonElement Data);

internal sealed record DeliveryPage(IReadOnlyList<DeliveryResponse> Items, string? NextCursor);

/// <summary><c>/api/v1/webhooks</c> (admin): subscriptions and their delivery log.</summary>
internal static partial class WebhooksApi
{
    public const int MaxSecretLength = 256;
    public const int MinSecretLength = 16;
    public const int MaxUrlLength = 2048;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/webhooks").WithTags("Webhooks").RequireAuthorization(Scopes.Admin);
        group.MapGet("/", async (WebhookRepository hooks, CancellationToken ct) => TypedResults.Ok((await hooks.ListAsync(ct)).Select(WebhookResponse.From).ToList()));
        group.MapGet("/{id}", GetAsync);
        group.MapPut("/{id}", PutAsync);
        group.MapDelete("/{id}", DeleteAsync);
        group.MapGet("/{id}/deliveries", DeliveriesAsync);
        return routes;
    }

    private static async Task<Results<Ok<WebhookResponse>, NotFound<ProblemDetails>>> GetAsync(string id, WebhookRepository hooks, CancellationToken cancellationToken) =>
        await hooks.GetAsync(id, cancellationToken) is { } hook ? TypedResults.Ok(WebhookResponse.From(hook)) : TypedResults.NotFound(NotFound(id));

    private static async Task<Results<Ok<WebhookResponse>, Created<WebhookResponse>, ValidationProblem>> PutAsync(
        string id, JsonElement body, WebhookRepository hooks, WebhookOptions options, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!IdPattern().IsMatch(id))
        {
            errors["id"] = ["must be 1-64 characters of lower-case letters, digits, '-' and '_'"];
        }

        var (url, secret, events) = Parse(body, options, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The webhook was not stored: fix the fields listed in 'errors'.");
        }

        var created = await hooks.PutAsync(id, url!, secret!, events!, user.Identity?.Name ?? "unknown", cancellationToken);
        var response = WebhookResponse.From((await hooks.GetAsync(id, cancellationToken))!);
        return created ? TypedResults.Created($"/api/v1/webhooks/{id}", response) : TypedResults.Ok(response);
    }

    private static async Task<Results<NoContent, NotFound<ProblemDetails>>> DeleteAsync(string id, WebhookRepository hooks, CancellationToken cancellationToken) =>
        await hooks.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound(NotFound(id));

    /// <summary>The delivery log, newest first; <c>state</c>: pending, delivered or failed; <c>cursor</c>: the previous page's nextCursor.</summary>
    private static async Task<Results<Ok<DeliveryPage>, NotFound<ProblemDetails>, ValidationProblem>> DeliveriesAsync(
        string id, string? state, string? cursor, int? limit, WebhookRepository hooks, CancellationToken cancellationToken)
    {
        if (state is not (null or Delivery.Pending or Delivery.Delivered or Delivery.Failed))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["state"] = ["must be pending, delivered or failed"] });
        }

        if (limit is < 1 or > 1000 || cursor is { Length: > 64 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [cursor is { Length: > 64 } ? "cursor" : "limit"] = ["is out of range (limit 1-1000)"] });
        }

        if (await hooks.GetAsync(id, cancellationToken) is null)
        {
            return TypedResults.NotFound(NotFound(id));
        }

        var take = limit ?? 100;
        var rows = await hooks.DeliveriesAsync(id, state, cursor, take + 1, cancellationToken);
        var page = rows.Take(take).Select(d => new DeliveryResponse(
            d.Id, d.EventType, d.State, (int)d.Attempts, Time(d.CreatedAt)!.Value, Time(d.LastAttemptAt), (int?)d.LastStatus, d.LastError,
            d.State == Delivery.Pending ? Time(d.NextAttemptAt) : null, Time(d.DeliveredAt), JsonDocument.Parse(d.Payload).RootElement.Clone())).ToList();
        return TypedResults.Ok(new DeliveryPage(page, rows.Count > take ? page[^1].Id : null));
    }

    private static (string? Url, string? Secret, IReadOnlyList<string>? Events) Parse(JsonElement body, WebhookOptions options, Dictionary<string, string[]> errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["$"] = ["the body must be a JSON object {url, secret, events}"];
            return default;
        }

        string? url = null, secret = null;
        List<string>? events = null;
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "url":
                    url = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                    if (url is null || url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
                        || uri.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
                    {
                        errors["url"] = [$"must be an absolute http(s) URL of at most {MaxUrlLength} characters, without credentials or fragment"];
                    }
                    else if (uri.Scheme == "http" && !options.AllowHttp)
                    {
                        errors["url"] = ["must use https (plain http is refused unless HealthScoring:Webhooks:AllowHttp is set)"];
                    }

                    break;
                case "secret":
                    secret = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                    if (secret is null || secret.Length is < MinSecretLength or > MaxSecretLength)
                    {
                        errors["secret"] = [$"must be a string of {MinSecretLength} to {MaxSecretLength} characters"];
                    }

                    break;
                case "events":
                    if (property.Value.ValueKind != JsonValueKind.Array || property.Value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                    {
                        errors["events"] = ["must be an array of event type names"];
                        break;
                    }

                    events = property.Value.EnumerateArray().Select(e => e.GetString()!).Distinct(StringComparer.Ordinal).ToList();
                    var unknown = events.Where(e => !OutboxEvent.Types.Contains(e)).ToList();
                    if (events.Count == 0 || unknown.Count > 0)
                    {
                        errors["events"] = [$"must list one or more of {string.Join(", ", OutboxEvent.Types)}{(unknown.Count > 0 ? $" (unknown: {string.Join(", ", unknown.Take(5))})" : "")}"];
                    }

                    break;
                default:
                    errors[property.Name] = ["is not a known field (url, secret, events)"];
                    break;
            }
        }

        foreach (var (name, value) in new[] { ("url", (object?)url), ("secret", secret), ("events", events) })
        {
            if (value is null && !errors.ContainsKey(name))
            {
                errors[name] = ["is required"];
            }
        }

        return (url, secret, events);
    }

    private static DateTime? Time(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v).UtcDateTime : null;

    private static ProblemDetails NotFound(string id) => new() { Status = 404, Title = "Not Found", Detail = $"No webhook '{id}'." };

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}
