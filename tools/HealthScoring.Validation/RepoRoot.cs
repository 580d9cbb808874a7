namespace HealthScoring.Validation;

/// <summary>Finds the repository root (the folder holding HealthScoring.sln) and the paths the tool uses from it.</summary>
public static class RepoRoot
{
    public const string SolutionFile = "HealthScoring.sln";

    /// <summary>The nearest folder at or above <paramref name="start"/> holding the solution file; null when none.</summary>
    public static string? Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>The root found from the working directory, else from the tool's own binaries.</summary>
    public static string Locate() =>
        Find(Directory.GetCurrentDirectory())
        ?? Find(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"No {SolutionFile} above {Directory.GetCurrentDirectory()}: run from inside the repository or pass explicit paths.");

    /// <summary>The shared KDD Cup 2015 data, beside the repository (never copied into it).</summary>
    public static string KddData(string root) => Path.GetFullPath(Path.Combine(root, "..", "shared", "datasets", "kddcup2015-2013"));

    /// <summary>The committed scorecard designed for the KDD replay.</summary>
    public static string KddScorecard(string root) => Path.Combine(root, "tools", "HealthScoring.Validation", "kdd-scorecard.json");

    /// <summary>The scorecard of candidate measures the KDD calibration starts from.</summary>
    public static string KddCandidates(string root) => Path.Combine(root, "tools", "HealthScoring.Validation", "kdd-candidates.json");
}
