using System.Diagnostics;
using Confluent.Kafka;

namespace GcpStreams.Embedded.Tests;

/// <summary>
/// A client that is not Confluent.Kafka — kcat, on Debian's own librdkafka — talks to the embedded cluster.
/// Needs the Debian package kcat; ignored with a reason when it is absent.
/// </summary>
public class KcatTests
{
    private static string? KcatPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "kcat"))
            .FirstOrDefault(File.Exists);

    [Test]
    public async Task Kcat_ListsTheTopic_AndConsumesWhatConfluentKafkaProduced()
    {
        var kcat = KcatPath();
        if (kcat is null)
        {
            Assert.Ignore("kcat is not installed (apt-get install -y kcat); this cross-client check needs it.");
        }

        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("kcat-topic", 3);
        var values = Enumerable.Range(0, 12).Select(i => $"value-{i:D2}").ToList();
        using (var producer = Clients.Producer(cluster))
        {
            foreach (var value in values)
            {
                await producer.ProduceAsync("kcat-topic", new Message<string, string> { Key = value, Value = value });
            }
        }

        var listing = await Run(kcat!, "-b", cluster.BootstrapServers, "-L", "-t", "kcat-topic");
        Assert.That(listing, Does.Contain("1 brokers:"));
        Assert.That(listing, Does.Contain("topic \"kcat-topic\" with 3 partitions"));

        var consumed = await Run(kcat!, "-b", cluster.BootstrapServers, "-C", "-t", "kcat-topic", "-c", "12", "-e", "-q",
            "-X", $"fetch.wait.max.ms={EmbeddedKafkaCluster.RecommendedFetchWaitMaxMs}");
        Assert.That(consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EquivalentTo(values));
    }

    private static async Task<string> Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Clients.Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"kcat {string.Join(' ', arguments)} did not finish within {Clients.Deadline}; stderr: {await stderr}");
        }

        Assert.That(process.ExitCode, Is.Zero, $"kcat {string.Join(' ', arguments)}: {await stderr}");
        return await stdout;
    }
}
