using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HealthScoring.Scoring.Metrics;

namespace HealthScoring.Service.Accounts;

/// <summary>
/// Reads a PUT /accounts body field by field, so that every unknown field and every bad value is reported
/// with its name and the reason (a plain deserializer stops at the first problem).
/// </summary>
internal static partial class AccountRequestParser
{
    public const int MaxGoals = 20;
    public const int MaxAttributes = 50;

    private static readonly HashSet<string> Known =
    [
        "name", "segment", "plan", "seatsPurchased", "mrr", "currency", "contractStart", "renewalDate", "status",
        "churnedAt", "championUserId", "goals", "attributes", "effectiveAt",
    ];

    public static AccountCrm? Parse(JsonElement body, Dictionary<string, string[]> errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors[""] = ["the body must be a JSON object"];
            return null;
        }

        foreach (var property in body.EnumerateObject())
        {
            if (!Known.Contains(property.Name))
            {
                errors[property.Name] = [$"unknown field; known fields: {string.Join(", ", Known)}"];
            }
        }

        var crm = new AccountCrm
        {
            Name = Text(body, "name", 200, errors),
            Segment = Text(body, "segment", 100, errors),
            Plan = Text(body, "plan", 100, errors),
            SeatsPurchased = Integer(body, "seatsPurchased", 0, 10_000_000, errors),
            Mrr = Number(body, "mrr", errors),
            Currency = Currency(body, errors),
            ContractStart = Date(body, "contractStart", errors),
            RenewalDate = Date(body, "renewalDate", errors),
            Status = Status(body, errors),
            ChurnedAt = Time(body, "churnedAt", errors),
            ChampionUserId = Text(body, "championUserId", 128, errors),
            Goals = Goals(body, errors),
            Attributes = Attributes(body, errors),
            EffectiveAt = Time(body, "effectiveAt", errors),
        };

        if (crm.Status == AccountStatus.Active && crm.ChurnedAt is not null)
        {
            errors["churnedAt"] = ["must be absent while status is 'active'"];
        }

        return errors.Count == 0 ? crm : null;
    }

    private static bool TryGet(JsonElement body, string name, out JsonElement value) =>
        body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string? Text(JsonElement body, string name, int max, Dictionary<string, string[]> errors)
    {
        if (!TryGet(body, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { } text)
        {
            errors[name] = ["must be a string"];
            return null;
        }

        if (text.Length > max || text.Any(char.IsControl))
        {
            errors[name] = [$"must be at most {max} characters without control characters"];
            return null;
        }

        return text.Length == 0 ? null : text;
    }

    private static int? Integer(JsonElement body, string name, int min, int max, Dictionary<string, string[]> errors)
    {
        if (!TryGet(body, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
        {
            errors[name] = [$"must be a whole number from {min} to {max}"];
            return null;
        }

        return number;
    }

    private static double? Number(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!TryGet(body, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number) || number < 0 || number > 1e12)
        {
            errors[name] = ["must be a number from 0 to 1e12"];
            return null;
        }

        return number;
    }

    private static string? Currency(JsonElement body, Dictionary<string, string[]> errors)
    {
        var text = Text(body, "currency", 16, errors);
        if (text is not null && !CurrencyPattern().IsMatch(text))
        {
            errors["currency"] = ["must be an ISO 4217 code such as USD or EUR"];
            return null;
        }

        return text;
    }

    private static DateOnly? Date(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!TryGet(body, name, out var value))
        {
            return null;
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (text is not null && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) && date.Year is >= 1970 and <= 2200)
        {
            return date;
        }

        if (text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) && time.Year is >= 1970 and <= 2200)
        {
            return DateOnly.FromDateTime(time.UtcDateTime);
        }

        errors[name] = ["must be a date (YYYY-MM-DD) or an RFC 3339 time, years 1970-2200"];
        return null;
    }

    private static DateTimeOffset? Time(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!TryGet(body, name, out var value))
        {
            return null;
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) && time.Year is >= 1970 and <= 2200)
        {
            return time.ToUniversalTime();
        }

        errors[name] = ["must be an RFC 3339 time (or a date), years 1970-2200"];
        return null;
    }

    private static string Status(JsonElement body, Dictionary<string, string[]> errors)
    {
        var text = Text(body, "status", 16, errors) ?? AccountStatus.Active;
        if (text is not (AccountStatus.Active or AccountStatus.Churned))
        {
            errors["status"] = ["must be 'active' or 'churned'"];
        }

        return text;
    }

    private static IReadOnlyList<Goal> Goals(JsonElement body, Dictionary<string, string[]> errors)
    {
        if (!TryGet(body, "goals", out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxGoals)
        {
            errors["goals"] = [$"must be an array of at most {MaxGoals} goals"];
            return [];
        }

        var goals = new List<Goal>();
        var i = 0;
        foreach (var goal in value.EnumerateArray())
        {
            var path = $"goals[{i++}]";
            if (goal.ValueKind != JsonValueKind.Object)
            {
                errors[path] = ["must be an object {metric, target, windowDays}"];
                continue;
            }

            var local = new Dictionary<string, string[]>();
            foreach (var property in goal.EnumerateObject().Where(p => p.Name is not ("metric" or "target" or "windowDays")))
            {
                local[property.Name] = ["unknown field; known: metric, target, windowDays"];
            }

            var metric = Text(goal, "metric", 100, local);
            if (metric is null && !local.ContainsKey("metric"))
            {
                local["metric"] = ["is required: the event name whose quantity counts towards the goal"];
            }

            var target = Number(goal, "target", local);
            if (target is not > 0 && !local.ContainsKey("target"))
            {
                local["target"] = ["is required and must be greater than 0"];
            }

            var window = Integer(goal, "windowDays", 1, 365, local) ?? 30;
            foreach (var (key, messages) in local)
            {
                errors[$"{path}.{key}"] = messages;
            }

            if (local.Count == 0)
            {
                goals.Add(new Goal(metric!, target!.Value, window));
            }
        }

        return goals;
    }

    private static IReadOnlyDictionary<string, JsonElement> Attributes(JsonElement body, Dictionary<string, string[]> errors)
    {
        if (!TryGet(body, "attributes", out var value))
        {
            return new Dictionary<string, JsonElement>();
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors["attributes"] = ["must be an object of names to strings, numbers or booleans"];
            return new Dictionary<string, JsonElement>();
        }

        var attributes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var ok = property.Name.Length is > 0 and <= 64 && property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!.Length <= 1024,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => true,
                _ => false,
            };
            if (!ok)
            {
                errors[$"attributes.{property.Name}"] = ["names are 1-64 characters; values are strings (at most 1024 characters), numbers or booleans"];
                continue;
            }

            attributes[property.Name] = property.Value.Clone();
        }

        if (attributes.Count > MaxAttributes)
        {
            errors["attributes"] = [$"at most {MaxAttributes} attributes"];
        }

        return attributes;
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();
}
