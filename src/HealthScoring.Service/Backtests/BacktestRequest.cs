using System.Globalization;
using System.Text.Json;

namespace HealthScoring.Service.Backtests;

/// <summary>
/// The body of a backtest or calibration: evaluate the scorecard every <see cref="StepDays"/> days from
/// <see cref="From"/> to <see cref="To"/> (UTC days, inclusive), each day labelled by whether the account churned
/// within the following <see cref="HorizonDays"/> days; <see cref="Version"/> picks an earlier version;
/// <see cref="Replay"/> replays the live version over the aggregates instead of reading its stored snapshots.
/// </summary>
internal sealed record BacktestRequest(DateOnly From, DateOnly To, int HorizonDays, int StepDays, int? Version, bool Replay = false)
{
    public const int DefaultHorizonDays = 90;
    public const int DefaultStepDays = 7;
    public const int MaxHorizonDays = 365;
    public const int MaxStepDays = 90;
    public const int MaxPeriodDays = 731;

    private static readonly string[] Fields = ["from", "to", "horizonDays", "stepDays", "version", "replay"];

    /// <summary>Reads and checks the body; every problem is reported against its field.</summary>
    public static (BacktestRequest? Request, Dictionary<string, string[]> Errors) Parse(JsonElement body)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors[""] = ["the body must be a JSON object: {\"from\": \"2026-01-01\", \"to\": \"2026-06-30\", \"horizonDays\": 90}"];
            return (null, errors);
        }

        foreach (var property in body.EnumerateObject().Where(p => !Fields.Contains(p.Name, StringComparer.Ordinal)))
        {
            errors[property.Name] = [$"unknown field; expected {string.Join(", ", Fields)}"];
        }

        var from = Date(body, "from", errors);
        var to = Date(body, "to", errors);
        var horizon = Integer(body, "horizonDays", 1, MaxHorizonDays, errors) ?? DefaultHorizonDays;
        var step = Integer(body, "stepDays", 1, MaxStepDays, errors) ?? DefaultStepDays;
        var version = Integer(body, "version", 1, int.MaxValue, errors);
        var replay = false;
        if (body.TryGetProperty("replay", out var replayValue) && replayValue.ValueKind != JsonValueKind.Null)
        {
            if (replayValue.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                replay = replayValue.GetBoolean();
            }
            else
            {
                errors["replay"] = ["must be true or false"];
            }
        }

        if (from is { } f && to is { } t)
        {
            if (t < f)
            {
                errors["to"] = ["must not be before 'from'"];
            }
            else if (t.DayNumber - f.DayNumber + 1 > MaxPeriodDays)
            {
                errors["to"] = [$"the period may span at most {MaxPeriodDays} days"];
            }
        }

        return errors.Count > 0 ? (null, errors) : (new BacktestRequest(from!.Value, to!.Value, horizon, step, version, replay), errors);
    }

    private static DateOnly? Date(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors[name] = ["is required (a UTC date, yyyy-MM-dd)"];
            return null;
        }

        if (value.ValueKind == JsonValueKind.String
            && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        errors[name] = ["must be a date, yyyy-MM-dd"];
        return null;
    }

    private static int? Integer(JsonElement body, string name, int min, int max, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max)
        {
            return number;
        }

        errors[name] = [max == int.MaxValue ? $"must be a whole number of at least {min}" : $"must be a whole number from {min} to {max}"];
        return null;
    }
}
