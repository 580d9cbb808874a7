namespace HealthScoring.Bench;

/// <summary>Progress goes to stderr, so stdout carries only the Markdown report.</summary>
internal static class Progress
{
    public static void Say(string line) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");
}
