using System.Net;
using System.Net.Sockets;
using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streamiz.Kafka.Net;

namespace GcpStreams.Integration.Tests;

/// <summary>Configuration errors stop startup with the setting's name; a cluster that is not there is waited for, and said so.</summary>
public class HostConfigurationTests
{
    [TestCase(7, 4, "Kafka:StoreBlockCacheMiB")]
    [TestCase(64, 0, "Kafka:StoreWriteBufferMiB")]
    [TestCase(64, 257, "Kafka:StoreWriteBufferMiB")]
    public void StoreMemorySettingsOutOfRange_AreRefusedNamingTheSetting(int blockCacheMiB, int writeBufferMiB, string setting)
    {
        var result = new KafkaOptionsValidation().Validate(null, new KafkaOptions { StoreBlockCacheMiB = blockCacheMiB, StoreWriteBufferMiB = writeBufferMiB });
        Assert.That(result.Failures, Has.Exactly(1).Contains(setting));
        Assert.That(new KafkaOptionsValidation().Validate(null, new KafkaOptions()).Succeeded, Is.True, "the defaults (64, 4) are valid");
    }

    [TestCase(KafkaMode.Embedded, null, false)]
    [TestCase(KafkaMode.Attached, null, true)]
    [TestCase(KafkaMode.Cluster, null, false)]
    [TestCase(KafkaMode.Cluster, true, true)]
    [TestCase(KafkaMode.Attached, false, false)]
    public void OffsetsAreCommittedOutsideTransactions_ByDefaultOnlyWhenAttachedToTheEmbeddedBroker(KafkaMode mode, bool? setting, bool expected) =>
        Assert.That(new KafkaOptions { Mode = mode, CommitOffsetsOutsideTransactions = setting }.CommitsOffsetsOutsideTransactions, Is.EqualTo(expected));

    [Test]
    public async Task ClusterModeWithoutBootstrapServers_StopsStartupNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWith(new() { ["Kafka:Mode"] = "Cluster", ["SchemaRegistry:Url"] = "http://schema-registry:8081", ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey }));
        Assert.That(error!.Message, Does.Contain("Kafka:BootstrapServers is required when Kafka:Mode is Cluster"));
    }

    [Test]
    public async Task ClusterModeWithoutASchemaRegistryUrl_StopsStartupNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWith(new(ClusterAuth.Settings)
        {
            ["Kafka:Mode"] = "Cluster", ["Kafka:BootstrapServers"] = "kafka:9092", ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey,
        }));
        Assert.That(error!.Message, Does.Contain("SchemaRegistry:Url is required when Kafka:Mode is Cluster"));
    }

    [Test]
    public async Task ClusterModeWithTheDevelopmentNumberingKey_IsRefused()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWith(new(ClusterAuth.Settings)
        {
            ["Kafka:Mode"] = "Cluster", ["Kafka:BootstrapServers"] = "kafka:9092", ["SchemaRegistry:Url"] = "http://schema-registry:8081", ["Gcp:NumberingKey"] = GcpOptions.DevelopmentNumberingKey, ["Auth:AllowEmbeddedInCluster"] = "true",
        }));
        Assert.That(error!.Message, Does.Contain("Gcp:NumberingKey is the public development key"));
    }

    [Test]
    public async Task ClusterModeWithTheDevelopmentTokenEndpoint_IsRefused()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWith(new()
        {
            ["Kafka:Mode"] = "Cluster", ["Kafka:BootstrapServers"] = "kafka:9092", ["SchemaRegistry:Url"] = "http://schema-registry:8081", ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey,
        }));
        Assert.That(error!.Message, Does.Contain("Auth:Mode is Embedded (the development token endpoint, public client secrets) while Kafka:Mode is Cluster"));
    }

    [Test]
    public async Task ClusterModeWithoutTheTicketingSystemsKey_StopsStartupNamingTheSetting_AndRefusesTheDevSigner()
    {
        var settings = new Dictionary<string, string?>(ClusterAuth.Settings)
        {
            ["Kafka:Mode"] = "Cluster", ["Kafka:BootstrapServers"] = "kafka:9092", ["SchemaRegistry:Url"] = "http://schema-registry:8081", ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey,
            ["Gcp:SupportTickets:SigningKeysPem"] = null, ["Gcp:SupportTickets:Issuer"] = null,
            ["Gcp:SupportTickets:DevSigningKeyPem"] = ClusterAuth.TicketingKey.ExportPkcs8PrivateKeyPem(),
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWith(settings));

        Assert.That(error!.Message, Does.Contain("Gcp:SupportTickets:SigningKeysPem is required when Kafka:Mode is Cluster")
            .And.Contain("Gcp:SupportTickets:Issuer is required when Kafka:Mode is Cluster")
            .And.Contain("Gcp:SupportTickets:DevSigningKeyPem is a development setting; cluster mode has no development signer"));
    }

    [Test]
    public async Task ClusterModeWithoutACommandSigningKey_StopsStartupNamingTheSetting()
    {
        var settings = new Dictionary<string, string?>(ClusterAuth.Settings) { ["Kafka:Mode"] = "Cluster", ["Kafka:BootstrapServers"] = "kafka:9092", ["SchemaRegistry:Url"] = "http://schema-registry:8081", ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey };
        settings.Remove("Gcp:CommandSigningKey");
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWith(settings));
        Assert.That(error!.Message, Does.Contain("Gcp:CommandSigningKey is required when Kafka:Mode is Cluster"));
    }

    [TestCase("Gcp:CommandSigningKey", "not base64!", "Gcp:CommandSigningKey must be base64")]
    [TestCase("Gcp:CommandSigningKey", "YS1jb21tYW5kLXNpZ25pbmcta2V5LW9mLTMxLWJ5dA==", "Gcp:CommandSigningKey must decode to at least 32 bytes (it has 31)")]
    [TestCase("Gcp:AcceptedCommandSigningKeys:0", "c2hvcnQ=", "Gcp:AcceptedCommandSigningKeys:0 must decode to at least 32 bytes (it has 5)")]
    [TestCase("Gcp:CommandMaxAgeSeconds", "5", "Gcp:CommandMaxAgeSeconds is 5; it must be between 10 and 86400")]
    [TestCase("Gcp:SupportCvcDisclosuresPerClientPerDay", "0", "Gcp:SupportCvcDisclosuresPerClientPerDay is 0; it must be between 1 and 100000")]
    [TestCase("Gcp:SupportTickets:SigningKeysPem", "not a key", "Gcp:SupportTickets:SigningKeysPem: holds no PEM public key")]
    [TestCase("Gcp:SupportTickets:MaxLifetimeMinutes", "60", "Gcp:SupportTickets:MaxLifetimeMinutes must be between 1 and 15 (got 60)")]
    [TestCase("Gcp:CvcKeys:1", "not base64!", "Gcp:CvcKeys:1 must be base64")]
    [TestCase("Gcp:CvcKeyVersion", "2", "Gcp:CvcKeys:2 is missing")]
    [TestCase("Gcp:NumberingKey", "not base64!", "Gcp:NumberingKey must be base64")]
    [TestCase("Gcp:NumberingKey", "c2hvcnQ=", "Gcp:NumberingKey must decode to at least 16 bytes (it has 5)")]
    [TestCase("Kafka:Partitions", "0", "Kafka:Partitions is 0; it must be between 1 and 1024")]
    [TestCase("Kafka:ProcessingGuarantee", "Sometimes", "Kafka:ProcessingGuarantee is 'Sometimes'; it must be one of ExactlyOnce, AtLeastOnce")]
    [TestCase("Kafka:ApplicationId", "has spaces", "Kafka:ApplicationId 'has spaces' must be 1-100 letters")]
    [TestCase("Kafka:SaslMechanism", "Carrier-Pigeon", "Kafka:SaslMechanism is 'Carrier-Pigeon'")]
    [TestCase("Gcp:MaxReservationHoldSeconds", "900", "Gcp:ReservationHoldSeconds (1800) must not exceed Gcp:MaxReservationHoldSeconds (900)")]
    [TestCase("Gcp:MaxReservationHoldSeconds", "10", "Gcp:MaxReservationHoldSeconds is 10; it must be between 60 and 86400")]
    [TestCase("ReadModel:BlockCacheMiB", "1", "ReadModel:BlockCacheMiB is 1; it must be between 8 and 4096")]
    [TestCase("ReadModel:WriteBufferMiB", "0", "ReadModel:WriteBufferMiB is 0; it must be between 1 and 1024")]
    [TestCase("ReadModel:Dir", "/", "ReadModel:Dir '/' must name a directory of its own")]
    public async Task BadSetting_StopsStartupNamingTheSetting(string setting, string value, string message)
    {
        var settings = new Dictionary<string, string?> { ["Kafka:Mode"] = "Embedded", ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey, [setting] = value };
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWith(settings));
        Assert.That(error!.Message, Does.Contain(message));
    }

    [Test]
    public async Task DemoPoolsSharingASeries_AreRefused()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWith(new()
        {
            ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey,
            ["Gcp:DemoPools:0:PoolId"] = "a", ["Gcp:DemoPools:0:Channel"] = "POS", ["Gcp:DemoPools:0:NominalMinor"] = "100", ["Gcp:DemoPools:0:Currency"] = "RUB", ["Gcp:DemoPools:0:Count"] = "1", ["Gcp:DemoPools:0:Series"] = "3",
            ["Gcp:DemoPools:1:PoolId"] = "b", ["Gcp:DemoPools:1:Channel"] = "KIOSK", ["Gcp:DemoPools:1:NominalMinor"] = "100", ["Gcp:DemoPools:1:Currency"] = "RUB", ["Gcp:DemoPools:1:Count"] = "1", ["Gcp:DemoPools:1:Series"] = "3",
        }));
        Assert.That(error!.Message, Does.Contain("pools a, b share series 3"));
        Assert.That(error.Message, Does.Contain("Gcp:DemoPools:1:Channel 'KIOSK' is not a sales channel"));
    }

    [Test]
    public async Task UnreachableCluster_IsWaitedForWithoutCrashing_AndReadinessSaysWhy()
    {
        var root = Directory.CreateTempSubdirectory("gcp-host-").FullName;
        await using var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kafka:Mode"] = "Cluster",
                ["Kafka:BootstrapServers"] = $"127.0.0.1:{UnusedPort()}",
                ["SchemaRegistry:Url"] = $"http://127.0.0.1:{UnusedPort()}",
                ["Auth:AllowEmbeddedInCluster"] = "true",
                ["Kafka:StateDir"] = Path.Combine(root, "state"),
                ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey,
                ["Gcp:CvcKeys:1"] = ServiceInstance.CvcKey,
            }).AddInMemoryCollection(ClusterAuth.Settings);
            builder.Logging.SetMinimumLevel(LogLevel.Critical);
        });
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        var live = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
        var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));

        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(ready.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(ready.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await ready.Content.ReadAsStringAsync(), Does.Contain("WaitingForKafka"));
        await app.StopAsync();
        Directory.Delete(root, recursive: true);
    }

    [Test]
    public void KafkaSettings_ArePassedWithTheirTypes()
    {
        var config = new StreamConfig { ApplicationId = "app", BootstrapServers = "kafka:9092" };

        StreamService.AddSetting(config, "session.timeout.ms", "6000");
        StreamService.AddSetting(config, "enable.idempotence", "true");
        StreamService.AddSetting(config, "client.rack", "eu-1a");

        Assert.That(config.SessionTimeoutMs, Is.EqualTo(6000));
        Assert.That(config.EnableIdempotence, Is.True);
        Assert.That(config.ToConsumerConfig().Get("client.rack"), Is.EqualTo("eu-1a"), "a string setting reaches the clients as is");
    }

    private static async Task StartWith(Dictionary<string, string?> settings)
    {
        var root = Directory.CreateTempSubdirectory("gcp-host-").FullName;
        settings.TryAdd("Kafka:StateDir", Path.Combine(root, "state"));
        settings.TryAdd("Gcp:CvcKeys:1", ServiceInstance.CvcKey);
        try
        {
            await using var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
            {
                builder.Configuration.AddInMemoryCollection(settings);
                builder.Logging.SetMinimumLevel(LogLevel.Critical);
            });
            await app.StartAsync();
            await app.StopAsync();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static int UnusedPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port; // closed again: nothing listens there
    }
}
