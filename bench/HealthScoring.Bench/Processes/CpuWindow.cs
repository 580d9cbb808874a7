using System.Diagnostics;

namespace HealthScoring.Bench.Processes;

/// <summary>CPU used over a window: by the server process, by this process (the load generator), and the machine.</summary>
internal sealed class CpuWindow(int? serverPid)
{
    private TimeSpan _server0, _self0;
    private (long Busy, long Total) _machine0;
    private long _start;

    /// <summary>Cores' worth of CPU the server used (1.0 = one core busy throughout).</summary>
    public double ServerCores { get; private set; } = double.NaN;

    public double LoadGeneratorCores { get; private set; } = double.NaN;

    /// <summary>Share of all the machine's CPU time that was busy, 0 to 1.</summary>
    public double MachineBusy { get; private set; } = double.NaN;

    /// <summary>Cores' worth of CPU used by anything else on the machine (non-zero: the run was disturbed).</summary>
    public double OtherCores => MachineBusy * Environment.ProcessorCount - LoadGeneratorCores - (double.IsNaN(ServerCores) ? 0 : ServerCores);

    public void Start()
    {
        _start = Stopwatch.GetTimestamp();
        _server0 = serverPid is { } pid ? ProcFs.CpuTime(pid) : TimeSpan.Zero;
        _self0 = Process.GetCurrentProcess().TotalProcessorTime;
        _machine0 = ProcFs.MachineCpu();
    }

    public void Stop()
    {
        var seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        if (serverPid is { } pid)
        {
            ServerCores = (ProcFs.CpuTime(pid) - _server0).TotalSeconds / seconds;
        }

        LoadGeneratorCores = (Process.GetCurrentProcess().TotalProcessorTime - _self0).TotalSeconds / seconds;
        var machine = ProcFs.MachineCpu();
        MachineBusy = (double)(machine.Busy - _machine0.Busy) / (machine.Total - _machine0.Total);
    }
}
