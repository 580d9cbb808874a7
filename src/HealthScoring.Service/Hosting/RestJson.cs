using System.Text.Json;
using System.Text.Json.Serialization;

namespace HealthScoring.Service.Hosting;

/// <summary>The REST JSON conventions in one place: camelCase, enums as camelCase strings, nulls written.</summary>
internal static class RestJson
{
    /// <summary>For JSON written outside the endpoint pipeline that must be byte-identical (stored responses).</summary>
    public static readonly JsonSerializerOptions Options = Apply(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Apply(JsonSerializerOptions options)
    {
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return options;
    }
}
