using System.Diagnostics;
using Confluent.SchemaRegistry;

namespace GcpStreams.Serialization.Tests;

/// <summary>The factory gives Confluent's client of a cluster's registry, without any I/O; the in-process registry is not its to give.</summary>
public class SchemaRegistryClientsTests
{
    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    [TestCase("inprocess")]
    [TestCase(" InProcess ")]
    public void An_empty_or_inprocess_url_is_refused_the_in_process_registry_is_the_embedded_hosts(string? url)
    {
        Assert.That(new SchemaRegistryOptions { Url = url }.IsInProcess, Is.True);
        Assert.Throws<InvalidOperationException>(() => SchemaRegistryClients.Create(new SchemaRegistryOptions { Url = url }));
    }

    [Test]
    public void A_url_gives_Confluents_cached_client_with_the_settings_passed_through_and_no_io()
    {
        var options = new SchemaRegistryOptions
        {
            Url = "https://schema-registry.invalid:8081",
            BasicAuthUserInfo = "svc-gcp:secret",
            RequestTimeoutMs = 1234,
            MaxRetries = 2,
            MaxCachedSchemas = 50,
            EnableSslCertificateVerification = false,
        };
        var clock = Stopwatch.StartNew();

        using var client = SchemaRegistryClients.Create(options);

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "nothing is contacted at construction");
        Assert.That(client, Is.TypeOf<CachedSchemaRegistryClient>());
        var config = client.Config.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.That(config["schema.registry.url"], Is.EqualTo("https://schema-registry.invalid:8081"));
        Assert.That(config["schema.registry.basic.auth.user.info"], Is.EqualTo("svc-gcp:secret"));
        Assert.That(config["schema.registry.basic.auth.credentials.source"], Is.EqualTo("USER_INFO"));
        Assert.That(config["schema.registry.request.timeout.ms"], Is.EqualTo("1234"));
        Assert.That(config["schema.registry.max.retries"], Is.EqualTo("2"));
        Assert.That(config["schema.registry.enable.ssl.certificate.verification"], Is.EqualTo("False"));
        Assert.That(client.MaxCachedSchemas, Is.EqualTo(50));
    }

    [Test]
    public void Tls_file_settings_are_passed_through()
    {
        var config = new SchemaRegistryOptions
        {
            Url = "https://sr:8081",
            SslCaLocation = "/etc/ssl/ca.pem",
            SslKeystoreLocation = "/etc/ssl/client.p12",
            SslKeystorePassword = "changeit",
        }.ToConfluentConfig();

        Assert.That((config.SslCaLocation, config.SslKeystoreLocation, config.SslKeystorePassword),
            Is.EqualTo(("/etc/ssl/ca.pem", "/etc/ssl/client.p12", "changeit")));
    }

    [Test]
    public void Unset_settings_are_left_to_Confluents_defaults()
    {
        var config = new SchemaRegistryOptions { Url = "http://sr:8081" }.ToConfluentConfig();

        Assert.That(config.Select(kv => kv.Key), Is.EqualTo(new[] { "schema.registry.url" }));
    }

    [Test]
    public void A_malformed_basic_auth_is_rejected_by_Confluents_client()
    {
        Assert.Throws<ArgumentException>(() =>
            SchemaRegistryClients.Create(new SchemaRegistryOptions { Url = "http://sr:8081", BasicAuthUserInfo = "no-colon" }));
    }

    [Test]
    public void The_in_process_options_have_no_Confluent_configuration_and_secrets_are_not_printed()
    {
        Assert.Throws<InvalidOperationException>(() => new SchemaRegistryOptions().ToConfluentConfig());
        Assert.That(new SchemaRegistryOptions { Url = "http://sr", BasicAuthUserInfo = "u:p" }.ToString(), Does.Not.Contain("u:p"));
    }
}
