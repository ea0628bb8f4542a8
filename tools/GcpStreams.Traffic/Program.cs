using System.Diagnostics;
using System.Globalization;
using Confluent.SchemaRegistry;
using GcpStreams.Topology;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

// gcp-traffic --bootstrap 127.0.0.1:PORT --schema-registry http://127.0.0.1:8080/schema-registry [--customers 100] [--rate 10] [--seed 1] [--pools id:CHANNEL:nominalMinor:CUR,...]
// with the service's command signing key in the environment variable Gcp__CommandSigningKey (never on the command line)
var options = TrafficOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(TrafficOptions.Usage);
    return 2;
}

if (SigningKey(Environment.GetEnvironmentVariable(TrafficOptions.SigningKeyVariable)) is not { } signer)
{
    Console.Error.WriteLine($"Set {TrafficOptions.SigningKeyVariable} to the service's command signing key (base64, at least {RecordSigner.MinKeyBytes} bytes): "
        + "the service refuses unsigned commands. Start the service with the same variable set (e.g. export it before `make run`).");
    return 2;
}

using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = options.SchemaRegistry });
await using var shop = new Shop(options.Bootstrap, registry, signer);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var random = new Random(options.Seed);
var tally = new Tally();
var clock = Stopwatch.StartNew();
var journeys = new List<Task>();
using var progress = new Timer(_ => Print(false), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
for (var i = 0; i < options.Customers && !cancel.IsCancellationRequested; i++)
{
    var due = TimeSpan.FromSeconds(i / options.Rate);
    if (due > clock.Elapsed)
    {
        await Task.Delay(due - clock.Elapsed, cancel.Token).ContinueWith(_ => { }, TaskScheduler.Default); // pacing, not synchronization
    }

    var customer = new Customer(shop, options.Pools[random.Next(options.Pools.Count)], new Random(random.Next()), tally);
    journeys.Add(Task.Run(async () =>
    {
        try
        {
            await customer.RunAsync(cancel.Token);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or Confluent.Kafka.KafkaException)
        {
            tally.Add($"failed ({e.GetType().Name})");
        }
    }));
    tally.Add("customers started");
}

await Task.WhenAll(journeys);
Print(true);
return tally["customers done"] + tally["returned unused"] + tally.Snapshot().Where(kv => kv.Key.StartsWith("reserve refused", StringComparison.Ordinal)).Sum(kv => kv.Value) == options.Customers ? 0 : 1;

static RecordSigner? SigningKey(string? base64)
{
    try
    {
        return string.IsNullOrWhiteSpace(base64) ? null : new RecordSigner(Convert.FromBase64String(base64));
    }
    catch (Exception e) when (e is FormatException or ArgumentException)
    {
        return null;
    }
}

void Print(bool final)
{
    var line = string.Create(CultureInfo.InvariantCulture,
        $"[{clock.Elapsed.TotalSeconds,5:F0}s] {string.Join(" | ", tally.Snapshot().Select(kv => $"{kv.Key} {kv.Value}"))}");
    if (final)
    {
        Console.WriteLine(line);
        Console.WriteLine("events on GiftCertificates.Stream: " + string.Join(", ", shop.EventCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
    }
    else
    {
        Console.WriteLine(line);
    }
}

internal sealed record TrafficOptions(string Bootstrap, string SchemaRegistry, int Customers, double Rate, int Seed, IReadOnlyList<PoolChoice> Pools)
{
    public const string Usage = "usage: Gcp__CommandSigningKey=BASE64 gcp-traffic --bootstrap HOST:PORT --schema-registry URL [--customers N] [--rate N/s] [--seed N] [--pools id:CHANNEL:nominalMinor:CUR,...]";

    /// <summary>The environment variable with the service's command signing key (the service's own setting name).</summary>
    public const string SigningKeyVariable = "Gcp__CommandSigningKey";

    private static readonly PoolChoice[] DemoPools =
    [
        new("pos-1000-rub", C.Channel.POS, 100_000, "RUB"),
        new("pos-5000-rub", C.Channel.POS, 500_000, "RUB"),
        new("web-3000-rub", C.Channel.INTERNET_STORE, 300_000, "RUB"),
        new("web-10000-rub", C.Channel.INTERNET_STORE, 1_000_000, "RUB"),
        new("app-2000-rub", C.Channel.MOBILE_APP, 200_000, "RUB"),
    ];

    public static TrafficOptions? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }

            values[args[i][2..]] = args[i + 1];
        }

        if (args.Length % 2 != 0 || !values.TryGetValue("bootstrap", out var bootstrap) || !values.TryGetValue("schema-registry", out var registry))
        {
            return null;
        }

        var pools = values.TryGetValue("pools", out var list)
            ? list.Split(',').Select(p => p.Split(':')).Select(p => new PoolChoice(p[0], Enum.Parse<C.Channel>(p[1], ignoreCase: true), long.Parse(p[2], CultureInfo.InvariantCulture), p[3])).ToList()
            : [.. DemoPools];
        return new TrafficOptions(
            bootstrap,
            registry,
            int.Parse(values.GetValueOrDefault("customers", "100"), CultureInfo.InvariantCulture),
            double.Parse(values.GetValueOrDefault("rate", "10"), CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("seed", "1"), CultureInfo.InvariantCulture),
            pools);
    }
}
