using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using GcpStreams.Client;
using GcpStreams.CrmNotifier;
using GcpStreams.Traffic;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

// gcp-bench-notify [--rate 5] [--seconds 60]
// Hosts the service (embedded broker, exactly-once) and the CRM notifier in this process, starts smtp4dev (the repository's
// dotnet tool) as the SMTP server, reserves the certificates, then pays one order a 1/rate seconds (each buyer a client record
// with its own e-mail address) and measures, per certificate, paid order produced -> e-mail accepted by smtp4dev (its receivedDate).
var rate = double.Parse(Arg("--rate", "5"), CultureInfo.InvariantCulture);
var seconds = int.Parse(Arg("--seconds", "60"), CultureInfo.InvariantCulture);
var count = (int)Math.Round(rate * seconds);
var root = Directory.CreateTempSubdirectory("gcp-bench-notify-").FullName;
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(20));

var smtp = await Smtp4Dev.StartAsync();
var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
{
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Kafka:Mode"] = "Embedded",
        ["Kafka:StateDir"] = Path.Combine(root, "state"),
        ["Gcp:NumberingKey"] = GcpOptions.DevelopmentNumberingKey,
        ["Gcp:CvcKeys:1"] = GcpOptions.DevelopmentCvcKey,
        ["Gcp:MaxOpenReservationsPerClient"] = "100000", // the bench reserves every certificate before the clock starts
        ["Gcp:DemoPools:0:PoolId"] = "bench-notify-pool", // one demo pool, big enough
        ["Gcp:DemoPools:0:Channel"] = "POS",
        ["Gcp:DemoPools:0:NominalMinor"] = "100000",
        ["Gcp:DemoPools:0:Currency"] = "RUB",
        ["Gcp:DemoPools:0:Count"] = (count + 10).ToString(CultureInfo.InvariantCulture),
        ["Gcp:DemoPools:0:LowWatermark"] = "0",
        ["Gcp:DemoPools:0:Series"] = "77",
    });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
});
IHost? notifier = null;
try
{
    await app.StartAsync();
    await app.Services.GetRequiredService<StreamService>().WhenRunning.WaitAsync(TimeSpan.FromMinutes(2), cancel.Token);
    var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    var kafka = app.Services.GetRequiredService<KafkaEnvironment>();
    var registry = app.Services.GetRequiredService<Confluent.SchemaRegistry.ISchemaRegistryClient>();
    await using var shop = new Shop(kafka.BootstrapServers, registry, app.Services.GetRequiredService<CommandSigning>().Signer);
    var timeout = TimeSpan.FromSeconds(60);

    notifier = NotifierApp.Build([], builder =>
    {
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Notifier:BootstrapServers"] = kafka.BootstrapServers,
            ["Notifier:SchemaRegistryUrl"] = url + "/schema-registry",
            ["Notifier:Api:BaseUrl"] = url,
            ["Notifier:Api:ClientSecret"] = "crm-notifier-secret",
            ["Notifier:Smtp:Host"] = "127.0.0.1",
            ["Notifier:Smtp:Port"] = smtp.SmtpPort.ToString(CultureInfo.InvariantCulture),
            ["Notifier:Smtp:Security"] = "None",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
    });
    await notifier.StartAsync(cancel.Token);
    await notifier.Services.GetRequiredService<NotificationWorker>().Started.WaitAsync(TimeSpan.FromMinutes(2), cancel.Token);
    await WaitForPoolAsync(app, cancel.Token);

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"bench-notify: {count} purchases at {rate}/s over {seconds} s; service (embedded broker, exactly-once) + notifier in this process, smtp4dev {smtp.WebUrl}; {Environment.ProcessorCount} cores, load {LoadAverage()}"));

    // setup: the buyers (All_Clients) and their reservations, before the clock starts
    var purchases = new (string ClientId, string Email, string CertificateId, string OrderId)[count];
    await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancel.Token }, async (i, token) =>
    {
        var clientId = $"bench-client-{i}";
        var email = $"bench-{i}@example.test";
        await shop.ProduceAsync(Topics.Clients, clientId, new C.Client
        {
            clientId = clientId, fullName = "Bench " + i, email = email, preferredContact = C.ContactChannel.EMAIL, locale = "en", updatedAt = DateTime.UtcNow,
        }, token);
        var orderId = $"bench-notify-order-{i}";
        var reply = await shop.SendCommandAsync("bench-notify-pool", new C.ReserveCertificate
        {
            poolId = "bench-notify-pool", channel = C.Channel.POS, nominalMinor = 100_000, currency = "RUB", orderId = orderId, holdSeconds = 1800,
        }, timeout, token);
        if (reply.outcome != C.ReplyOutcome.ACCEPTED)
        {
            throw new InvalidOperationException($"reservation refused: {reply.reason} {reply.message}");
        }

        purchases[i] = (clientId, email, reply.certificateId, orderId);
    });

    // the steady rate: one paid order every 1/rate s
    var paidAt = new DateTimeOffset[count];
    var clock = Stopwatch.StartNew();
    var sends = new List<Task>();
    for (var i = 0; i < count; i++)
    {
        var due = TimeSpan.FromSeconds(i / rate);
        if (due > clock.Elapsed)
        {
            await Task.Delay(due - clock.Elapsed, cancel.Token); // pacing the load, not synchronization
        }

        var (clientId, _, certificateId, orderId) = purchases[i];
        var order = TeamRecords.Order(orderId, certificateId, "bench-notify-pool", C.Channel.POS, 100_000, clientId: clientId);
        paidAt[i] = new DateTimeOffset(order.occurredAt, TimeSpan.Zero);
        sends.Add(shop.ProduceAsync(Topics.SalesOrders, orderId, order, cancel.Token));
    }

    await Task.WhenAll(sends);
    var received = await smtp.FirstMessagesAsync(count, TimeSpan.FromMinutes(5), cancel.Token);
    var latencies = new List<double>();
    var missing = 0;
    for (var i = 0; i < count; i++)
    {
        if (received.TryGetValue(purchases[i].Email, out var at))
        {
            latencies.Add((at - paidAt[i]).TotalMilliseconds);
        }
        else
        {
            missing++;
        }
    }

    latencies.Sort();
    double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"paid order -> e-mail accepted by the SMTP server: {latencies.Count} e-mails ({missing} missing), p50 {P(0.50):F0} ms, p90 {P(0.90):F0} ms, p99 {P(0.99):F0} ms, max {P(1.0):F0} ms"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {DateTime.UtcNow:yyyy-MM-dd} | {rate}/s × {seconds} s | {latencies.Count}/{count} | {P(0.50):F0} ms | {P(0.90):F0} ms | {P(0.99):F0} ms | {P(1.0):F0} ms | load {LoadAverage()} |"));
    return missing == 0 ? 0 : 1;
}
finally
{
    if (notifier is not null)
    {
        await notifier.StopAsync();
        notifier.Dispose();
    }

    await app.StopAsync();
    await app.DisposeAsync();
    await smtp.DisposeAsync();
    try
    {
        Directory.Delete(root, recursive: true);
    }
    catch (IOException)
    {
        // RocksDB may hold a file a moment longer; the temp dir is the OS's to clean
    }
}

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static async Task WaitForPoolAsync(WebApplication app, CancellationToken token)
{
    var model = app.Services.GetRequiredService<GcpStreams.Api.ReadModel.CertificateReadModel>();
    while (model.GetPool("bench-notify-pool") is not { Available: > 0 })
    {
        await Task.Delay(100, token); // polling a condition: the demo pool is loaded at start
    }
}
