using System.Text.Json;
using System.Text.Json.Serialization;

namespace HealthScoring.Service.Hosting;

/// <summary>The REST JSON conventions in one place: camelCase, enums as camelCase strings, nulls written.</summary>
internal static class RestJson
{
    /// <summary>
    /// For JSON written outside the endpoint pipeline that must be byte-identical (stored responses, webhook payloads):
    /// ASP.NET Core's own defaults for endpoint JSON (web defaults with its relaxed escaping) plus <see cref="Apply"/>,
    /// exactly what the endpoints are configured with.
    /// </summary>
    public static readonly JsonSerializerOptions Options = Apply(new JsonSerializerOptions(new Microsoft.AspNetCore.Http.Json.JsonOptions().SerializerOptions));

    public static JsonSerializerOptions Apply(JsonSerializerOptions options)
    {
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return options;
    }
}
