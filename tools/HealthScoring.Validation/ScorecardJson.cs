using System.Text.Json;
using System.Text.Json.Serialization;
using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Validation;

/// <summary>
/// Scorecards as JSON: camelCase names of the <see cref="Scorecard"/> records. Strict on purpose: an unknown
/// property (a typo such as "windowdays") or a missing required one is an error, not a silent default.
/// </summary>
public static class ScorecardJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNameCaseInsensitive = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public static Scorecard Parse(string json)
    {
        var scorecard = JsonSerializer.Deserialize<Scorecard>(json, Options)
            ?? throw new JsonException("The scorecard JSON is null.");
        var errors = ScorecardValidator.Validate(scorecard);
        if (errors.Count > 0)
        {
            throw new InvalidDataException("Invalid scorecard: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        }

        return scorecard;
    }

    public static Scorecard Load(string path) => Parse(File.ReadAllText(path));

    public static string Serialize(Scorecard scorecard) => JsonSerializer.Serialize(scorecard, Options);
}
