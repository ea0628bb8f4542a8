using System.Globalization;

namespace GcpStreams.Reliability;

/// <summary>gcp-reliability's command line.</summary>
/// <param name="Instances">As given (<c>--instances</c>); each phase has its own default: 3 for reserve, 1 for soak.</param>
internal sealed record SuiteOptions(string Phase, int Cycles, int Seed, double Rate, int Reservations, int PoolSize, int? Instances, string Results, int TrafficSeconds,
    double Minutes, int SampleSeconds, int Certificates = 1_000_000)
{
    public const string Usage = "usage: gcp-reliability [--phase kill|reserve|soak|memory|all] [--cycles N (20)] [--seed N (time)] [--rate customers/s (2)] "
        + "[--reservations N (10000)] [--pool N (5000)] [--instances N for the reserve (3) and soak (1) phases] [--results DIR (artifacts/reliability)] "
        + "[--traffic-seconds N: traffic at least this long (0)] [--minutes N: the soak's length (30)] [--sample-seconds N: the soak's and the memory phase's sampling interval (10)] "
        + "[--certificates N: issued in the memory phase (1000000)]";

    public static SuiteOptions? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                return null;
            }

            values[args[i][2..]] = args[i + 1];
        }

        var known = new[] { "phase", "cycles", "seed", "rate", "reservations", "pool", "instances", "results", "traffic-seconds", "minutes", "sample-seconds", "certificates" };
        if (values.Keys.Any(k => !known.Contains(k, StringComparer.Ordinal)))
        {
            return null;
        }

        var phase = values.GetValueOrDefault("phase", "all");
        if (phase is not ("kill" or "reserve" or "soak" or "memory" or "all"))
        {
            return null;
        }

        int Int(string key, int otherwise) => values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : otherwise;
        return new SuiteOptions(
            phase,
            Int("cycles", 20),
            Int("seed", Environment.TickCount & 0x7fffffff),
            values.TryGetValue("rate", out var rate) ? double.Parse(rate, CultureInfo.InvariantCulture) : 2,
            Int("reservations", 10_000),
            Int("pool", 5_000),
            values.TryGetValue("instances", out var instances) ? int.Parse(instances, CultureInfo.InvariantCulture) : null,
            values.GetValueOrDefault("results", "artifacts/reliability"),
            Int("traffic-seconds", 0),
            values.TryGetValue("minutes", out var minutes) ? double.Parse(minutes, CultureInfo.InvariantCulture) : 30,
            Int("sample-seconds", 10),
            Int("certificates", 1_000_000));
    }
}
