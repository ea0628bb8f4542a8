using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The development token endpoint on a cluster (<c>Auth:AllowEmbeddedInCluster</c>) stops startup, naming the settings, unless
/// every client has a secret of its own (none of the public ones), a signing key and a pinned issuer are configured.
/// </summary>
public class ClusterAuthConfigurationTests
{
    [Test]
    public void The_development_token_endpoint_on_a_cluster_refuses_every_public_secret_and_needs_a_key_and_an_issuer()
    {
        var failures = ClusterValidation(new AuthOptions { AllowEmbeddedInCluster = true });

        Assert.That(failures, Is.EquivalentTo(new[]
        {
            "Auth:Clients:admin:Secret is a public development secret; with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true every client needs a secret of its own.",
            "Auth:Clients:bi:Secret is a public development secret; with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true every client needs a secret of its own.",
            "Auth:Clients:crm-notifier:Secret is a public development secret; with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true every client needs a secret of its own.",
            "Auth:Clients:internet-store:Secret is a public development secret; with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true every client needs a secret of its own.",
            "Auth:Clients:pos-terminal:Secret is a public development secret; with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true every client needs a secret of its own.",
            "Auth:Clients:support:Secret is a public development secret; with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true every client needs a secret of its own.",
            "Auth:SigningKeyPem is required with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true (an RSA private key of your own, the same on every instance).",
            "Auth:Issuer is required with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true (the issuer tokens are written and checked with, the service's public URL).",
        }));
    }

    [Test]
    public void Changing_one_secret_or_swapping_public_ones_is_not_enough()
    {
        var options = ClusterReady();
        options.Clients[DevClients.Admin].Secret = "admin-secret";
        options.Clients[DevClients.Support].Secret = "pos-terminal-secret"; // another client's public secret is public too
        Assert.That(ClusterValidation(options), Is.EquivalentTo(new[]
        {
            "Auth:Clients:admin:Secret is a public development secret; with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true every client needs a secret of its own.",
            "Auth:Clients:support:Secret is a public development secret; with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true every client needs a secret of its own.",
        }));
    }

    [Test]
    public void Own_secrets_a_key_and_an_issuer_are_accepted_and_embedded_kafka_keeps_the_dev_defaults()
    {
        Assert.That(ClusterValidation(ClusterReady()), Is.Empty);
        var embedded = new AuthModeValidation(Options.Create(new KafkaOptions { Mode = KafkaMode.Embedded }));
        Assert.That(embedded.Validate(null, new AuthOptions()).Succeeded, Is.True, "make run keeps the public dev clients");
        Assert.That(ClusterValidation(new AuthOptions()), Has.One.StartsWith("Auth:Mode is Embedded (the development token endpoint, public client secrets) while Kafka:Mode is Cluster"));
    }

    [Test]
    public async Task A_cluster_with_the_public_dev_clients_stops_startup_naming_the_settings()
    {
        var root = Directory.CreateTempSubdirectory("gcp-m4-").FullName;
        try
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            {
                await using var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
                {
                    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                    {
                        ["Kafka:Mode"] = "Cluster",
                        ["Kafka:BootstrapServers"] = "kafka:9092",
                        ["SchemaRegistry:Url"] = "http://schema-registry:8081",
                        ["Kafka:StateDir"] = Path.Combine(root, "state"),
                        ["Auth:AllowEmbeddedInCluster"] = "true",
                        ["Auth:Clients:admin:Secret"] = "a-secret-of-its-own",
                        ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey,
                        ["Gcp:CvcKeys:1"] = ServiceInstance.CvcKey,
                    });
                    builder.Logging.SetMinimumLevel(LogLevel.Critical);
                });
                await app.StartAsync();
            });
            Assert.That(error!.Message, Does.Contain("Auth:Clients:pos-terminal:Secret is a public development secret")
                .And.Contain("Auth:SigningKeyPem is required").And.Contain("Auth:Issuer is required").And.Not.Contain("Auth:Clients:admin:Secret"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static AuthOptions ClusterReady()
    {
        var options = new AuthOptions { AllowEmbeddedInCluster = true, Issuer = ClusterAuth.Issuer, SigningKeyPem = ClusterAuth.Settings["Auth:SigningKeyPem"] };
        foreach (var client in options.Clients.Keys)
        {
            options.Clients[client].Secret = ClusterAuth.Secret(client);
        }

        return options;
    }

    private static IReadOnlyList<string> ClusterValidation(AuthOptions options) =>
        new AuthModeValidation(Options.Create(new KafkaOptions { Mode = KafkaMode.Cluster, BootstrapServers = "kafka:9092" })).Validate(null, options).Failures?.ToArray() ?? [];
}
