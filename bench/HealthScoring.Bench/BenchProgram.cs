using HealthScoring.Bench.Serve;

namespace HealthScoring.Bench;

/// <summary>
/// <c>ingest [options]</c> runs the ingestion benchmark and prints a Markdown report;
/// <c>serve --handler ...</c> is the ceiling server the benchmark starts as its own child process.
/// </summary>
internal static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel(); // unwinds the phases, whose finally blocks stop the child servers
        };

        try
        {
            return args switch
            {
                ["ingest", .. var rest] => await IngestCommand.RunAsync(BenchOptions.Parse(rest), cancel.Token),
                ["serve", .. var rest] => await ServeCommand.RunAsync(rest),
                ["scoring", .. var rest] => await Scoring.ScoringCommand.RunAsync(rest, cancel.Token),
                ["portfolio", .. var rest] => await Portfolio.PortfolioCommand.RunAsync(rest, cancel.Token),
                ["demo", .. var rest] => await Demo.DemoCommand.RunAsync(rest, cancel.Token),
                ["backtest", .. var rest] => await Backtest.BacktestCommand.RunAsync(rest, cancel.Token),
                ["soak", .. var rest] => await Soak.SoakCommand.RunAsync(rest, cancel.Token),
                _ => Usage(),
            };
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Cancelled.");
            return 130;
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine(BenchOptions.Usage);
        return 2;
    }
}
