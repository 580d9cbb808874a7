using WireEvent = HealthScoring.Protos.V1.UsageEvent;

namespace HealthScoring.Service.Ingestion;

/// <summary>A rejected event: its position, id, the offending proto field and why.</summary>
internal sealed record Rejection(int Index, string EventId, string Field, string Reason);

/// <summary>
/// Checks one wire event and maps it to a <see cref="UsageEvent"/>, or says which field is wrong and why.
/// Only that event is rejected; the rest of its batch goes on.
/// </summary>
internal sealed class EventValidator(IngestionOptions options, TimeProvider clock)
{
    public const int MaxIdLength = 128;
    public const int MaxNameLength = 100;
    public const int MaxProperties = 50;
    public const int MaxPropertyKeyLength = 64;
    public const int MaxPropertyValueLength = 1024;
    public const int MaxPropertiesBytes = 8 * 1024;
    public const double MaxQuantity = 1e12;

    public UsageEvent? Validate(WireEvent e, int index, DateTimeOffset now, out Rejection? rejection)
    {
        rejection = Check(e, now) is { } problem ? new Rejection(index, Truncate(e.EventId), problem.Field, problem.Reason) : null;
        if (rejection is not null)
        {
            return null;
        }

        return new UsageEvent(
            e.AccountId,
            e.EventId,
            e.UserId.Length == 0 ? null : e.UserId,
            e.Name,
            e.OccurredAt.ToDateTimeOffset(),
            e.Quantity == 0 ? 1 : e.Quantity);
    }

    public DateTimeOffset Now() => clock.GetUtcNow();

    private (string Field, string Reason)? Check(WireEvent e, DateTimeOffset now)
    {
        if (IdProblem(e.EventId, required: true) is { } eventId)
        {
            return ("event_id", eventId);
        }

        if (IdProblem(e.AccountId, required: true) is { } accountId)
        {
            return ("account_id", accountId);
        }

        if (e.AccountId.AsSpan().IndexOfAny("/?#%\\") >= 0)
        {
            return ("account_id", "must not contain '/', '?', '#', '%' or '\\' (it is used in REST paths)");
        }

        if (IdProblem(e.UserId, required: false) is { } userId)
        {
            return ("user_id", userId);
        }

        if (e.Name.Length == 0)
        {
            return ("name", "is required");
        }

        if (e.Name.Length > MaxNameLength)
        {
            return ("name", $"is {e.Name.Length} characters long; at most {MaxNameLength} are allowed");
        }

        if (!IsValidName(e.Name))
        {
            return ("name", "may hold only letters, digits and . _ - : / and must start with a letter or digit");
        }

        if (e.OccurredAt is null)
        {
            return ("occurred_at", "is required");
        }

        if (e.OccurredAt.Nanos is < 0 or > 999_999_999 || e.OccurredAt.Seconds is < -62135596800 or > 253402300799)
        {
            return ("occurred_at", "is not a valid timestamp");
        }

        var occurredAt = e.OccurredAt.ToDateTimeOffset();
        if (occurredAt > now + options.MaxFutureSkew)
        {
            return ("occurred_at", $"is {(occurredAt - now).TotalMinutes:0} minutes in the future; at most {options.MaxFutureSkew.TotalMinutes:0} are tolerated");
        }

        if (occurredAt < now.AddDays(-options.AcceptedWindowDays))
        {
            return ("occurred_at", $"is older than the accepted window of {options.AcceptedWindowDays} days");
        }

        if (double.IsNaN(e.Quantity) || double.IsInfinity(e.Quantity))
        {
            return ("quantity", "must be a finite number");
        }

        if (e.Quantity < 0)
        {
            return ("quantity", "must not be negative");
        }

        if (e.Quantity > MaxQuantity)
        {
            return ("quantity", $"must be at most {MaxQuantity:0e0}");
        }

        return PropertiesProblem(e.Properties) is { } properties ? ("properties", properties) : null;
    }

    private static string? IdProblem(string value, bool required)
    {
        if (value.Length == 0)
        {
            return required ? "is required" : null;
        }

        if (value.Length > MaxIdLength)
        {
            return $"is {value.Length} characters long; at most {MaxIdLength} are allowed";
        }

        foreach (var c in value)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c))
            {
                return "must not contain whitespace or control characters";
            }
        }

        return null;
    }

    private static bool IsValidName(string name)
    {
        if (!char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-' or ':' or '/'))
            {
                return false;
            }
        }

        return true;
    }

    private static string? PropertiesProblem(Google.Protobuf.Collections.MapField<string, string> properties)
    {
        if (properties.Count > MaxProperties)
        {
            return $"has {properties.Count} entries; at most {MaxProperties} are allowed";
        }

        var bytes = 0;
        foreach (var (key, value) in properties)
        {
            if (key.Length is 0 or > MaxPropertyKeyLength)
            {
                return $"keys must be 1 to {MaxPropertyKeyLength} characters long";
            }

            if (value.Length > MaxPropertyValueLength)
            {
                return $"value of '{Truncate(key)}' is {value.Length} characters long; at most {MaxPropertyValueLength} are allowed";
            }

            bytes += key.Length + value.Length;
        }

        return bytes > MaxPropertiesBytes ? $"hold {bytes} characters in all; at most {MaxPropertiesBytes} are allowed" : null;
    }

    private static string Truncate(string value) => value.Length <= MaxIdLength ? value : value[..MaxIdLength];
}
