using System.Text.Json;
using HealthScoring.Scoring.Engine;
using HealthScoring.Service.Accounts;
using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Health;

/// <summary>
/// The current health as stored in <c>accounts.health_json</c>: the GET .../health response itself, built when
/// the scores are saved (trend deltas included) with <c>"override": null</c>, so that GET is one single-row read
/// plus writing these bytes. The CSM override changes without a rescore, so it is spliced in at read time.
/// </summary>
internal static class HealthDocument
{
    /// <summary>The days before the scored day the trend compares with (<c>delta7d</c>, <c>delta30d</c>).</summary>
    public static readonly int[] TrendDays = [7, 30];

    /// <summary>The REST JSON conventions: the stored bytes are what the endpoint would write.</summary>
    public static readonly JsonSerializerOptions ResponseJson = Hosting.RestJson.Options;

    public static HealthResponse ToResponse(HealthResult result, DateTime computedAt, TrendResponse trend, OverrideResponse? active) => new(
        result.AccountId,
        result.AsOf,
        computedAt,
        result.Score,
        HealthRepository.BandName(result.Band),
        new ScorecardRef(result.ScorecardId, result.ScorecardVersion),
        trend,
        result.Dimensions.Select(d => new DimensionResponse(d.Key, d.Score, d.Weight, d.EffectiveWeight,
            d.Measures.Select(m => new MeasureResponse(m.Key, m.Metric, m.Value is { } v ? Math.Round(v, 4) : null, m.Score, m.Weight, m.EffectiveWeight, m.Explanation)).ToList())).ToList(),
        result.Drivers.Select(d => new DriverResponse(d.Measure, d.Impact, d.Explanation)).ToList(),
        active);

    /// <summary>Score change against the snapshots 7 and 30 days before <paramref name="day"/> (null without either).</summary>
    public static TrendResponse Trend(int? score, int day, Func<int, int?> scoreOn)
    {
        int? Delta(int days) => score is { } s && scoreOn(day - days) is { } before ? s - before : null;
        return new TrendResponse(Delta(TrendDays[0]), Delta(TrendDays[1]));
    }

    /// <summary>
    /// The stored document (UTF-8) of the last of <paramref name="days"/> (consecutive recomputed days), its trend from
    /// those days and, before the first of them, from the <paramref name="stored"/> scores.
    /// </summary>
    public static byte[] Render(IReadOnlyList<HealthResult> days, IReadOnlyDictionary<int, int?> stored, DateTimeOffset computedAt)
    {
        var first = UtcDay.FromDate(days[0].AsOf);
        var last = days[^1];
        // Milliseconds, as health_computed_at stores the time.
        var at = DateTimeOffset.FromUnixTimeMilliseconds(computedAt.ToUnixTimeMilliseconds()).UtcDateTime;
        return Render(ToResponse(last, at, Trend(last.Score, UtcDay.FromDate(last.AsOf), day => ScoreOn(day, first, days, stored)), null));
    }

    /// <summary>
    /// An account's score on <paramref name="day"/> while days are recomputed from <paramref name="firstDay"/> on: before
    /// it the <paramref name="stored"/> one, from it on the one in <paramref name="computed"/> (null beyond them).
    /// </summary>
    public static int? ScoreOn(int day, int firstDay, IReadOnlyList<HealthResult> computed, IReadOnlyDictionary<int, int?> stored) =>
        day < firstDay ? stored.GetValueOrDefault(day) : day - firstDay < computed.Count ? computed[day - firstDay].Score : null;

    /// <summary>
    /// A response as the stored document (UTF-8), written by the generated serializer into a writer with the endpoints'
    /// escaping (the one option the generator cannot set; options that differ from the generated ones would leave its
    /// fast path).
    /// </summary>
    public static byte[] Render(HealthResponse response)
    {
        // One buffer and writer per thread (the scorer renders in parallel), reset for each document.
        var buffer = t_buffer ??= new System.Buffers.ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ResponseJson.Encoder });
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, response, HealthDocumentJson.Default.HealthResponse);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    [ThreadStatic]
    private static System.Buffers.ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static OverrideResponse ToResponse(HealthOverride active) =>
        new(active.Score, active.Band, active.Reason, active.ExpiresAt.UtcDateTime, active.SetBy, active.SetAt.UtcDateTime);

    /// <summary>The stored response (UTF-8) with the active override (if any) in place of <c>null</c>.</summary>
    public static byte[] WithOverride(byte[] json, HealthOverride? active)
    {
        if (active is null)
        {
            return json;
        }

        var kept = json.Length - "null}"u8.Length;
        var overrideJson = JsonSerializer.SerializeToUtf8Bytes(ToResponse(active), ResponseJson);
        var result = new byte[kept + overrideJson.Length + 1];
        json.AsSpan(0, kept).CopyTo(result);
        overrideJson.CopyTo(result.AsSpan(kept));
        result[^1] = (byte)'}';
        return result;
    }
}

/// <summary>
/// The stored document's serializer, generated at build time: it writes the response straight to UTF-8 without the
/// reflection-based converters (rendering was about a third of the rollover's scoring CPU). Its options are the REST
/// conventions (<see cref="Hosting.RestJson"/>), its escaping theirs (the writer's, in <c>Render</c>); a test checks that
/// it writes the same bytes as the endpoints' options.
/// </summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never,
    GenerationMode = System.Text.Json.Serialization.JsonSourceGenerationMode.Serialization)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthResponse))]
internal sealed partial class HealthDocumentJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>A stored JSON response (UTF-8) written as is, with the content type <c>TypedResults.Ok</c> uses.</summary>
internal sealed class StoredJsonResult(byte[] bytes) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        httpContext.Response.ContentLength = bytes.Length;
        return httpContext.Response.Body.WriteAsync(bytes, httpContext.RequestAborted).AsTask();
    }
}
