using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using GcpStreams.Broker;
using GcpStreams.Client;
using GcpStreams.Integration.Tests;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Ops.Tests;

/// <summary>The standalone broker on its own: fixed ports, log-start warnings, its command line, the process and its stop.</summary>
public class BrokerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Test]
    public async Task OverfilledPartition_ItsLogStartMoves_AndThePeriodicCheckWarnsNamingTopicPartitionAndNewLogStart()
    {
        using var logs = new CapturedLogs();
        using var loggers = LoggerFactory.Create(l => l.AddProvider(logs));
        await using var broker = await StandaloneBroker.StartAsync(new BrokerSettings { LogStartCheckInterval = TimeSpan.FromSeconds(1) }, loggers);
        var moved = new TaskCompletionSource<LogStartMove>(TaskCreationOptions.RunContinuationsAsynchronously);
        broker.Watcher.Moved += m => moved.TrySetResult(m);

        // the mock keeps 5 MiB per partition: seven records of 900 kB (a batch each) overfill partition 0 of an input
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 0, MessageMaxBytes = 1_000_000 }).Build())
        {
            var payload = new byte[900_000];
            for (var i = 0; i < 7; i++)
            {
                await producer.ProduceAsync(new TopicPartition(Topics.Payments.Name, 0), new Message<byte[]?, byte[]> { Key = null, Value = payload });
            }
        }

        var move = await moved.Task.WaitAsync(TimeSpan.FromSeconds(20)); // the watcher's own period finds it
        Assert.That(move, Is.EqualTo(new LogStartMove(Topics.Payments.Name, 0, "input", 0, move.LogStart)));
        Assert.That(move.LogStart, Is.InRange(1, 6));
        Assert.That(logs.Lines, Has.Some.Contains($"Log start of {Topics.Payments.Name}[0] moved to offset {move.LogStart} (was 0)").And.Contains("Warning"));
        Assert.That(broker.Watcher.CheckNow(), Is.Empty, "a log start that has not moved again is not warned about again");
    }

    [Test]
    public async Task NewBroker_MarksEveryChangelogPartitionsCommittedEndAtZero_InTheServicesGroup()
    {
        using var loggers = LoggerFactory.Create(_ => { });
        await using var broker = await StandaloneBroker.StartAsync(new BrokerSettings(), loggers);
        var changelogs = broker.Topics.Where(t => t.Role == "changelog").SelectMany(t => Enumerable.Range(0, t.Partitions).Select(p => new TopicPartition(t.Topic, p))).ToList();
        var inputs = broker.Topics.Where(t => t.Role == "input").Select(t => new TopicPartition(t.Topic, 0)).ToList();
        Assert.That(changelogs, Has.Count.GreaterThanOrEqualTo(8), "the service's store changelogs, each partition");

        using var group = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = broker.Settings.ApplicationId }).Build();
        Assert.That(group.Committed(changelogs, Timeout).Select(c => c.Offset.Value), Is.All.EqualTo(0),
            "a first transaction that never commits is past the mark, so the restore sets it back");
        Assert.That(group.Committed(inputs, Timeout).Select(c => c.Offset), Is.All.EqualTo(Offset.Unset), "inputs: no position until the service commits one");
    }

    [Test]
    public async Task CheckNow_WarnsForEachMove_ChangelogsSayingStoresCannotBeRestored()
    {
        using var logs = new CapturedLogs();
        using var loggers = LoggerFactory.Create(l => l.AddProvider(logs));
        await using var broker = await StandaloneBroker.StartAsync(new BrokerSettings { ApplicationId = "gcp-ls", LogStartCheckInterval = TimeSpan.FromMinutes(10) }, loggers);
        const string changelog = "gcp-ls-certificates-changelog";
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            for (var i = 0; i < 4; i++)
            {
                await producer.ProduceAsync(new TopicPartition(changelog, 1), new Message<string, string> { Key = "k", Value = "v" });
            }
        }

        Assert.That(broker.Watcher.CheckNow(), Is.Empty);
        broker.Cluster.DeleteRecords(changelog, 1, 2);
        Assert.That(broker.Watcher.CheckNow(), Is.EqualTo(new[] { new LogStartMove(changelog, 1, "changelog", 0, 2) }));
        broker.Cluster.DeleteRecords(changelog, 1, 3);
        Assert.That(broker.Watcher.CheckNow(), Is.EqualTo(new[] { new LogStartMove(changelog, 1, "changelog", 2, 3) }));
        Assert.That(logs.Lines, Has.Some.Contains($"Log start of {changelog}[1] moved to offset 3 (was 2)").And.Contains("a state store restored from it would miss those records"));
        Assert.That(broker.Watcher.Checks, Is.GreaterThanOrEqualTo(3));
    }

    [Test]
    public async Task FixedPorts_ClientsGoThroughTheFixedKafkaPort_AndTheRegistryAnswersOnItsOwn()
    {
        var (kafkaPort, registryPort) = (FreePort(), FreePort());
        await using var broker = await StandaloneBroker.StartAsync(new BrokerSettings { Port = kafkaPort, RegistryPort = registryPort }, LoggerFactory.Create(_ => { }));
        Assert.That(broker.BootstrapServers, Is.EqualTo($"127.0.0.1:{kafkaPort}"));
        Assert.That(broker.RegistryUrl, Is.EqualTo($"http://127.0.0.1:{registryPort}"));
        Assert.That(broker.ReadyLine, Is.EqualTo($"gcp-broker ready bootstrap=127.0.0.1:{kafkaPort} registry=http://127.0.0.1:{registryPort}"));
        Assert.That(broker.Banner()[^1], Is.EqualTo(broker.ReadyLine));

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        var metadata = admin.GetMetadata(Timeout);
        Assert.That(metadata.Brokers.Select(b => $"{b.Host}:{b.Port}"), Is.EqualTo(new[] { $"127.0.0.1:{kafkaPort}" }), "the broker advertises the fixed port");

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(Topics.Clients.Name, new Message<string, string> { Key = "c1", Value = "through the proxy" });
        }

        var read = new TopicReader(broker.BootstrapServers, Timeout).Read(Topics.Clients.Name).Single();
        Assert.That(System.Text.Encoding.UTF8.GetString(read.Message.Value!), Is.EqualTo("through the proxy"));

        using var http = new HttpClient();
        using var missing = await http.GetAsync(new Uri($"{broker.RegistryUrl}/schemas/ids/1"));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "Confluent's REST API at the root of the registry port");
        Assert.That(await missing.Content.ReadAsStringAsync(), Does.Contain("40403"));
    }

    [Test]
    public async Task FixedPort_Taken_FailsAtStart()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await Assert.ThatAsync(async () => await StandaloneBroker.StartAsync(new BrokerSettings { Port = port }, LoggerFactory.Create(_ => { })), Throws.InstanceOf<SocketException>());
    }

    [TestCase(new string[0], null, null, "gcp-streams", 2, 10)]
    [TestCase(new[] { "--port", "19092", "--registry-port", "18085", "--application-id", "gcp-x", "--partitions", "4", "--log-start-check-seconds", "3" }, 19092, 18085, "gcp-x", 4, 3)]
    public void Settings_Parse(string[] args, int? port, int? registryPort, string applicationId, int partitions, int seconds)
    {
        var settings = BrokerSettings.Parse(args);
        Assert.That(settings, Is.EqualTo(new BrokerSettings
        {
            Port = port, RegistryPort = registryPort, ApplicationId = applicationId, Partitions = partitions, LogStartCheckInterval = TimeSpan.FromSeconds(seconds),
        }));
        Assert.That(new Api.Hosting.KafkaOptions().Partitions, Is.EqualTo(BrokerSettings.DefaultPartitions), "the service's default");
        Assert.That(new Api.Hosting.KafkaOptions().ApplicationId, Is.EqualTo(BrokerSettings.DefaultApplicationId), "the service's default");
    }

    [TestCase(new[] { "--port" }, "--port needs a value.")]
    [TestCase(new[] { "--port", "0" }, "--port is '0'; it must be a whole number from 1 to 65535.")]
    [TestCase(new[] { "--partitions", "-1" }, "--partitions is '-1'")]
    [TestCase(new[] { "--application-id", ".." }, "--application-id '..' must be")]
    [TestCase(new[] { "--log-start-check-seconds", "0" }, "--log-start-check-seconds is '0'")]
    [TestCase(new[] { "--port", "9092", "--registry-port", "9092" }, "--port and --registry-port are both 9092")]
    [TestCase(new[] { "--verbose" }, "unknown argument '--verbose'.")]
    public void Settings_Refused_NamingTheArgument(string[] args, string message) =>
        Assert.That(() => BrokerSettings.Parse(args), Throws.ArgumentException.With.Message.StartsWith(message));

    [Test]
    public async Task Process_PrintsItsAddressesAndReadyLine_AndStopsCleanlyOnSigterm()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "gcp-broker.dll");
        Assert.That(File.Exists(dll), Is.True, dll);
        using var process = Process.Start(new ProcessStartInfo("dotnet", [dll, "--log-start-check-seconds", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        try
        {
            var lines = new List<string>();
            string? ready = null;
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (ready is null && await process.StandardOutput.ReadLineAsync(cancel.Token) is { } line)
            {
                lines.Add(line);
                ready = line.StartsWith("gcp-broker ready ", StringComparison.Ordinal) ? line : null;
            }

            Assert.That(ready, Does.Match(@"^gcp-broker ready bootstrap=127\.0\.0\.1:\d+ registry=http://127\.0\.0\.1:\d+$"), string.Join('\n', lines));
            var bootstrap = ready!.Split(' ')[2]["bootstrap=".Length..];
            Assert.That(lines, Has.Some.EqualTo($"  Kafka bootstrap servers: {bootstrap}"));
            Assert.That(new TopicReader(bootstrap, Timeout).TopicNames(), Does.Contain(Topics.Stream.Name));

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(cancel.Token);
            }

            await process.WaitForExitAsync(cancel.Token);
            Assert.That(process.ExitCode, Is.EqualTo(0), await process.StandardError.ReadToEndAsync(cancel.Token));
            Assert.That(await process.StandardOutput.ReadToEndAsync(cancel.Token), Does.Contain("gcp-broker stopping"));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Test]
    public async Task Process_BadArgument_ExitsWith2_NamingIt()
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "gcp-broker.dll"), "--partitions", "x"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.EqualTo(2));
        Assert.That(error, Does.Contain("gcp-broker: --partitions is 'x'").And.Contain("usage: gcp-broker"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
