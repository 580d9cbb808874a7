namespace HealthScoring.Bench.Processes;

/// <summary>Where the built service and this benchmark live, found from the benchmark's own output folder.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The service built in this benchmark's configuration (Release when run as documented).</summary>
    public static string ServiceDll(string? overridePath)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = overridePath ?? Path.Combine(Root, "src", "HealthScoring.Service", "bin", configuration, "net10.0", "HealthScoring.Service.dll");
        return File.Exists(dll)
            ? Path.GetFullPath(dll)
            : throw new FileNotFoundException($"The service is not built: run `dotnet build -c {configuration} HealthScoring.sln` first.", dll);
    }

    public static string BenchDll => typeof(RepositoryPaths).Assembly.Location;

    /// <summary>A fresh folder for one phase's store, under the system temp folder.</summary>
    public static string NewScratchDirectory(string phase)
    {
        var path = Path.Combine(Path.GetTempPath(), "healthscoring-bench", $"{phase}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "HealthScoring.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("HealthScoring.sln not found above the benchmark's folder.");
    }
}
