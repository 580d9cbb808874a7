using System.Text.RegularExpressions;
using HealthScoring.Scoring.Metrics;

namespace HealthScoring.Scoring.Scorecards;

/// <summary>Checks a scorecard before it is stored; errors are keyed by the JSON path of the offending field.</summary>
public static partial class ScorecardValidator
{
    public const int MaxMeasuresPerDimension = 20;
    public const int MaxWindowDays = 730;

    public static IReadOnlyDictionary<string, string[]> Validate(Scorecard scorecard)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string path, string message)
        {
            if (!errors.TryGetValue(path, out var list))
            {
                errors[path] = list = [];
            }

            list.Add(message);
        }

        if (!IdPattern().IsMatch(scorecard.Id))
        {
            Add("id", "must be 1-64 characters of lower-case letters, digits, '-' and '_'");
        }

        if (string.IsNullOrWhiteSpace(scorecard.Name) || scorecard.Name.Length > 200)
        {
            Add("name", "is required, at most 200 characters");
        }

        if (scorecard.Bands.YellowFrom is < 0 or > 100 || scorecard.Bands.GreenFrom is < 0 or > 100 || scorecard.Bands.YellowFrom >= scorecard.Bands.GreenFrom)
        {
            Add("bands", "need 0 <= yellowFrom < greenFrom <= 100");
        }

        if (scorecard.AppliesTo is { } rule && rule.MinAccountAgeDays > rule.MaxAccountAgeDays)
        {
            Add("appliesTo", "minAccountAgeDays must not exceed maxAccountAgeDays");
        }

        CheckNames(scorecard.KeyFeatures, "keyFeatures", Add);
        CheckNames(scorecard.OnboardingMilestones, "onboardingMilestones", Add);

        var keys = scorecard.Dimensions.Select(d => d.Key).ToList();
        if (keys.Count != DimensionKeys.All.Count || !DimensionKeys.All.All(keys.Contains))
        {
            Add("dimensions", $"must be exactly the four DEAR dimensions: {string.Join(", ", DimensionKeys.All)}");
        }

        for (var i = 0; i < scorecard.Dimensions.Count; i++)
        {
            var dimension = scorecard.Dimensions[i];
            var path = $"dimensions[{i}]";
            if (!double.IsFinite(dimension.Weight) || dimension.Weight <= 0)
            {
                Add($"{path}.weight", "must be a positive number");
            }

            if (dimension.Measures.Count is 0 or > MaxMeasuresPerDimension)
            {
                Add($"{path}.measures", $"need 1 to {MaxMeasuresPerDimension} measures");
            }

            for (var j = 0; j < dimension.Measures.Count; j++)
            {
                ValidateMeasure(dimension.Measures[j], $"{path}.measures[{j}]", Add);
            }
        }

        var all = scorecard.Dimensions.SelectMany(d => d.Measures).Select(m => m.Key).ToList();
        if (all.Count != all.Distinct(StringComparer.Ordinal).Count())
        {
            Add("dimensions", "measure keys must be unique across the scorecard");
        }

        ValidateRiskRules(scorecard, Add);
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    private static void ValidateRiskRules(Scorecard scorecard, Action<string, string> add)
    {
        foreach (var (type, settings) in scorecard.RiskRules)
        {
            var path = $"riskRules.{type}";
            if (!Risk.RiskRules.Defaults.ContainsKey(type))
            {
                add(path, $"unknown risk rule '{type}'; known: {string.Join(", ", Risk.RiskRules.All)}");
                continue;
            }

            if (settings.Severity is { } severity && !Risk.RiskRules.Severities.Contains(severity))
            {
                add($"{path}.severity", "must be low, medium or high");
            }

            if (settings.Threshold is { } t && !double.IsFinite(t) || settings.ClearAt is { } c && !double.IsFinite(c))
            {
                add(path, "threshold and clearAt must be finite numbers");
                continue;
            }

            if (settings.WindowDays is < 1 or > MaxWindowDays)
            {
                add($"{path}.windowDays", $"must be 1 to {MaxWindowDays}");
            }

            if (settings.MinAccountAgeDays is < 0 or > 3650)
            {
                add($"{path}.minAccountAgeDays", "must be 0 to 3650");
            }

            if (settings.DisabledForSegments is { Count: > 100 })
            {
                add($"{path}.disabledForSegments", "at most 100 segments");
            }

            var rule = Risk.RiskRules.Resolve(type, scorecard.RiskRules, scorecard.Bands);
            if (rule.Direction == Risk.RiskDirection.Above ? rule.ClearAt > rule.Threshold : rule.ClearAt < rule.Threshold)
            {
                add($"{path}.clearAt", rule.Direction == Risk.RiskDirection.Above
                    ? $"must not exceed the threshold ({rule.Threshold}): the flag clears when the value falls back below clearAt"
                    : $"must not be below the threshold ({rule.Threshold}): the flag clears when the value rises back to clearAt");
            }
        }
    }

    private static void ValidateMeasure(MeasureDefinition measure, string path, Action<string, string> add)
    {
        if (!IdPattern().IsMatch(measure.Key))
        {
            add($"{path}.key", "must be 1-64 characters of lower-case letters, digits, '-' and '_'");
        }

        if (!MetricNames.All.Contains(measure.Metric))
        {
            add($"{path}.metric", $"unknown metric '{measure.Metric}'; known: {string.Join(", ", MetricNames.All)}");
        }

        if (measure.WindowDays is < 1 or > MaxWindowDays)
        {
            add($"{path}.windowDays", $"must be 1 to {MaxWindowDays}");
        }

        if (!double.IsFinite(measure.Weight) || measure.Weight <= 0)
        {
            add($"{path}.weight", "must be a positive number");
        }

        if (measure.MinActiveDays < 1)
        {
            add($"{path}.minActiveDays", "must be at least 1");
        }

        ValidateScoring(measure.Scoring, $"{path}.scoring", add);
        for (var k = 0; k < measure.ScoringByAge.Count; k++)
        {
            if (measure.ScoringByAge[k].FromAgeDays < 0)
            {
                add($"{path}.scoringByAge[{k}].fromAgeDays", "must not be negative");
            }

            ValidateScoring(measure.ScoringByAge[k].Scoring, $"{path}.scoringByAge[{k}].scoring", add);
        }
    }

    private static void ValidateScoring(ScoringFunction? scoring, string path, Action<string, string> add)
    {
        switch (scoring?.Type)
        {
            case ScoringFunction.Linear:
                if (scoring.ZeroAt is not { } zero || scoring.FullAt is not { } full || !double.IsFinite(zero) || !double.IsFinite(full))
                {
                    add(path, "linear scoring needs finite zeroAt and fullAt");
                }
                else if (zero == full)
                {
                    add(path, "zeroAt and fullAt must differ");
                }

                break;
            case ScoringFunction.BandsType:
                if (scoring.Bands.Count is 0 or > 20)
                {
                    add($"{path}.bands", "need 1 to 20 bands");
                }
                else if (scoring.Bands.Any(b => !double.IsFinite(b.From) || b.Score is < 0 or > 100 || !double.IsFinite(b.Score)))
                {
                    add($"{path}.bands", "each band needs a finite 'from' and a score from 0 to 100");
                }
                else if (scoring.Bands.Select(b => b.From).Distinct().Count() != scoring.Bands.Count)
                {
                    add($"{path}.bands", "band 'from' values must be distinct");
                }

                break;
            default:
                add($"{path}.type", "must be 'linear' or 'bands'");
                break;
        }
    }

    private static void CheckNames(IReadOnlyList<string> names, string path, Action<string, string> add)
    {
        if (names.Count > 100)
        {
            add(path, "at most 100 event names");
        }

        foreach (var name in names)
        {
            if (name.Length is 0 or > 100)
            {
                add(path, $"'{name}' is not a valid event name (1-100 characters)");
            }
        }
    }

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}
