using System.Diagnostics;
using System.Globalization;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

// gcp-traffic --bootstrap 127.0.0.1:PORT --schema-registry http://127.0.0.1:8080/schema-registry [--api http://127.0.0.1:8080] [--customers 100] [--rate 10] [--seed 1] [--pools id:CHANNEL:nominalMinor:CUR,...]
// Reservations and lock/unlock go through the HTTP API (OAuth2 client credentials, as POS, the internet store and support
// call it); orders and payments are records on the Orders and Payments teams' topics, as those teams write them.
var options = TrafficOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(TrafficOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

using var api = new GcpApi(options.Api);
var clients = options.Pools.Select(p => DevClient.ForChannel(p.Channel)).Append(DevClient.Support).Distinct().ToList();
try
{
    await api.WarmUpAsync(clients, cancel.Token);
}
catch (ApiUnavailableException e)
{
    Console.Error.WriteLine($"The API at {options.Api} gave no token: {e.Message}");
    return 1;
}

Console.WriteLine($"API {options.Api}: tokens for {string.Join(", ", clients.Select(c => c.Id))}");
using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = options.SchemaRegistry });
// the demo sends no command (its customers use the HTTP API): its shop's key is its own, which the service would refuse
await using var shop = new Shop(options.Bootstrap, registry, new RecordSigner(System.Security.Cryptography.RandomNumberGenerator.GetBytes(RecordSigner.MinKeyBytes)));

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

    var customer = new Customer(shop, api, options.Pools[random.Next(options.Pools.Count)], new Random(random.Next()), tally);
    journeys.Add(Task.Run(async () =>
    {
        try
        {
            await customer.RunAsync(cancel.Token);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or Confluent.Kafka.KafkaException or ApiUnavailableException or HttpRequestException)
        {
            tally.Add($"failed ({e.GetType().Name})");
        }
    }));
    tally.Add("customers started");
}

await Task.WhenAll(journeys);
Print(true);
return tally["customers done"] + tally["returned unused"] + tally.Snapshot().Where(kv => kv.Key.StartsWith("reserve refused", StringComparison.Ordinal)).Sum(kv => kv.Value) == options.Customers ? 0 : 1;

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

internal sealed record TrafficOptions(string Bootstrap, string SchemaRegistry, Uri Api, int Customers, double Rate, int Seed, IReadOnlyList<PoolChoice> Pools)
{
    public const string DefaultApi = "http://127.0.0.1:8080";

    public const string Usage = "usage: gcp-traffic --bootstrap HOST:PORT --schema-registry URL [--api URL (default " + DefaultApi + ")] [--customers N] [--rate N/s] [--seed N] "
        + "[--pools id:CHANNEL:nominalMinor:CUR,...]";

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

        if (args.Length % 2 != 0 || !values.TryGetValue("bootstrap", out var bootstrap) || !values.TryGetValue("schema-registry", out var registry)
            || !Uri.TryCreate(values.GetValueOrDefault("api", DefaultApi), UriKind.Absolute, out var api) || api.Scheme is not ("http" or "https"))
        {
            return null;
        }

        var pools = values.TryGetValue("pools", out var list)
            ? list.Split(',').Select(p => p.Split(':')).Select(p => new PoolChoice(p[0], Enum.Parse<C.Channel>(p[1], ignoreCase: true), long.Parse(p[2], CultureInfo.InvariantCulture), p[3])).ToList()
            : [.. DemoPools];
        return new TrafficOptions(
            bootstrap,
            registry,
            api,
            int.Parse(values.GetValueOrDefault("customers", "100"), CultureInfo.InvariantCulture),
            double.Parse(values.GetValueOrDefault("rate", "10"), CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("seed", "1"), CultureInfo.InvariantCulture),
            pools);
    }
}
