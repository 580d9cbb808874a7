using HealthScoring.Validation;
using HealthScoring.Validation.Kdd;

// dotnet run -c Release --project tools/HealthScoring.Validation -- kdd [--data DIR] [--scorecard FILE]
const string Usage = """
    usage: HealthScoring.Validation kdd [--data DIR] [--scorecard FILE] [--candidates FILE]
      kdd          replay the KDD Cup 2015 (XuetangX) enrollments and report ROC AUCs against dropout
      --data       the dataset folder (default: <repo root>/../shared/datasets/kddcup2015-2013)
      --scorecard  the scorecard JSON to measure next to the default scorecard
                   (default: <repo root>/tools/HealthScoring.Validation/kdd-scorecard.json)
      --candidates the scorecard of candidate measures to calibrate on half of the courses and judge on the others
                   (default: <repo root>/tools/HealthScoring.Validation/kdd-candidates.json)
    """;

if (args.Length == 0 || args[0] != "kdd")
{
    Console.Error.WriteLine(Usage);
    return 2;
}

string? data = null;
string? scorecardPath = null;
string? candidatesPath = null;
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--data" when i + 1 < args.Length:
            data = args[++i];
            break;
        case "--scorecard" when i + 1 < args.Length:
            scorecardPath = args[++i];
            break;
        case "--candidates" when i + 1 < args.Length:
            candidatesPath = args[++i];
            break;
        default:
            Console.Error.WriteLine($"unknown or incomplete argument '{args[i]}'");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

try
{
    var root = data is null || scorecardPath is null || candidatesPath is null ? RepoRoot.Locate() : null;
    data = Path.GetFullPath(data ?? RepoRoot.KddData(root!));
    scorecardPath = Path.GetFullPath(scorecardPath ?? RepoRoot.KddScorecard(root!));
    candidatesPath = Path.GetFullPath(candidatesPath ?? RepoRoot.KddCandidates(root!));

    var configured = ScorecardJson.Load(scorecardPath);
    var dataset = KddDataset.Load(data);
    var report = KddReplay.Run(dataset, KddReplay.Scorecards(Path.GetFileName(scorecardPath), configured));
    Console.Write(report.ToMarkdown(data));
    Console.WriteLine();
    Console.Write(KddRiskReplay.ToMarkdown(KddRiskReplay.Run(dataset, configured), Path.GetFileName(scorecardPath), report.BaseRate));
    Console.WriteLine();
    var calibration = KddCalibration.Run(dataset, ScorecardJson.Load(candidatesPath), new NamedScorecard(Path.GetFileName(scorecardPath), configured));
    Console.Write(KddCalibration.ToMarkdown(calibration, Path.GetFileName(candidatesPath)));
    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or InvalidOperationException or UnauthorizedAccessException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
