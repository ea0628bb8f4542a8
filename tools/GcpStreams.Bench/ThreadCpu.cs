using System.Globalization;

namespace GcpStreams.Bench;

/// <summary>
/// CPU time of this process's threads by name, from Linux's <c>/proc/self/task/*/stat</c> (user + system time): what a
/// timed phase cost in CPU, whatever else the machine was doing (wall-clock throughput on a shared machine is noisy,
/// CPU per event much less). Threads are grouped by their name up to the first digit (Streamiz's stream thread, librdkafka's
/// <c>rdk:*</c> threads, RocksDB's, the runtime's). Empty where <c>/proc</c> is not there.
/// </summary>
internal sealed class ThreadCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on

    private readonly Dictionary<int, (string Name, long Ticks)> threads;

    private ThreadCpu(Dictionary<int, (string Name, long Ticks)> threads) => this.threads = threads;

    public static ThreadCpu Now()
    {
        var threads = new Dictionary<int, (string, long)>();
        if (!Directory.Exists("/proc/self/task"))
        {
            return new ThreadCpu(threads);
        }

        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' '); // fields from the 3rd (state) on: utime is the 14th, stime the 15th
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                threads[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = (stat[(open + 1)..close], ticks);
            }
            catch (IOException)
            {
                // the thread ended meanwhile
            }
        }

        return new ThreadCpu(threads);
    }

    /// <summary>CPU seconds spent since <paramref name="before"/>, per thread-name group, largest first.</summary>
    public IReadOnlyList<(string Group, double Seconds)> Since(ThreadCpu before) =>
    [
        .. threads
            .Select(t => (Group: Group(t.Value.Name), Ticks: t.Value.Ticks - (before.threads.TryGetValue(t.Key, out var b) && b.Name == t.Value.Name ? b.Ticks : 0)))
            .GroupBy(t => t.Group)
            .Select(g => (g.Key, g.Sum(t => t.Ticks) / TicksPerSecond))
            .Where(g => g.Item2 > 0)
            .OrderByDescending(g => g.Item2),
    ];

    private static string Group(string name)
    {
        var digit = name.IndexOfAny("0123456789".ToCharArray());
        return (digit > 0 ? name[..digit] : name).TrimEnd('-', '_', ' ', '#');
    }
}
