namespace HealthScoring.Bench.Report;

/// <summary>The machine a run happened on, as the report states it.</summary>
internal sealed record MachineInfo(int Cores, string CpuModel, long MemoryBytes)
{
    public static MachineInfo Current()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
            ?.Split(':', 2)[1].Trim() ?? "unknown";
        var memory = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            ?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] is { } kb ? long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024 : 0;
        return new MachineInfo(Environment.ProcessorCount, model, memory);
    }

    public override string ToString() => $"{Cores} cores ({CpuModel}), {MemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB RAM, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
}
