using System.Text.Json.Nodes;
using YamlDotNet.Serialization;

namespace GcpStreams.Deployment.Tests;

/// <summary>
/// charts/gcp-streams rendered with the real Helm binary for DEV, QA and PROD, and what must hold in every rendering:
/// every topic of the code has its KafkaTopic, the ACLs are least privilege per team, the StatefulSet keeps a state dir per
/// pod with the service's probes, no secret value is rendered, and the PrometheusRule passes <c>promtool check rules</c>.
/// </summary>
[Parallelizable(ParallelScope.None)]
public class ChartTests
{
    private static readonly Dictionary<string, IReadOnlyList<JsonObject>> Rendered = [];

    private static IReadOnlyList<JsonObject> Manifests(string environment)
    {
        lock (Rendered)
        {
            if (!Rendered.TryGetValue(environment, out var manifests))
            {
                manifests = Chart.Render(environment);
                Rendered[environment] = manifests;
            }

            return manifests;
        }
    }

    private static Dictionary<string, object?> Values(string environment)
    {
        var deserializer = new DeserializerBuilder().Build();
        var defaults = deserializer.Deserialize<Dictionary<string, object?>>(File.ReadAllText(Path.Combine(Chart.ChartDir, "values.yaml")));
        var overrides = deserializer.Deserialize<Dictionary<string, object?>>(File.ReadAllText(Path.Combine(Chart.ChartDir, $"values-{environment}.yaml")));
        return Merge(defaults, overrides);
    }

    private static Dictionary<string, object?> Merge(Dictionary<string, object?> a, Dictionary<string, object?> b)
    {
        var merged = new Dictionary<string, object?>(a);
        foreach (var (key, value) in b)
        {
            merged[key] = merged.TryGetValue(key, out var existing) && existing is Dictionary<object, object?> x && value is Dictionary<object, object?> y
                ? Merge(x.ToDictionary(k => (string)k.Key, k => k.Value), y.ToDictionary(k => (string)k.Key, k => k.Value))
                : value;
        }

        return merged;
    }

    private static string Value(string environment, params string[] path)
    {
        object? node = Values(environment);
        foreach (var key in path)
        {
            node = node switch
            {
                Dictionary<string, object?> d => d.GetValueOrDefault(key),
                Dictionary<object, object?> d => d.GetValueOrDefault(key),
                _ => null,
            };
        }

        return node?.ToString() ?? throw new InvalidOperationException($"no value {string.Join('.', path)} for {environment}");
    }

    [TestCaseSource(typeof(Chart), nameof(Chart.Environments))]
    public void HelmLint_Passes(string environment)
    {
        var (code, output, error) = Chart.Run(Chart.Helm, ["lint", Chart.ChartDir, "--strict", "-f", Path.Combine(Chart.ChartDir, $"values-{environment}.yaml")]);
        Assert.That(code, Is.Zero, output + error);
    }

    [TestCaseSource(typeof(Chart), nameof(Chart.Environments))]
    public void EveryTopicOfTheCode_HasAKafkaTopic_WithTheEnvironmentsPartitionsReplicationAndCleanupPolicy(string environment)
    {
        var topics = Manifests(environment).OfKind("KafkaTopic").ToDictionary(t => (string)t["spec"]!["topicName"]!);
        var app = Value(environment, "kafka", "applicationId");
        var expected = new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<string, List<Dictionary<string, string>>>>(ChartTopicsTests.Expected())["topics"];
        Assert.That(topics.Keys, Is.EquivalentTo(expected.Select(t => t["name"].Replace(ChartTopicsTests.AppPlaceholder, app, StringComparison.Ordinal))));
        foreach (var topic in expected)
        {
            var name = topic["name"].Replace(ChartTopicsTests.AppPlaceholder, app, StringComparison.Ordinal);
            var spec = topics[name]["spec"]!;
            Assert.Multiple(() =>
            {
                Assert.That((string?)spec["partitions"], Is.EqualTo(Value(environment, "kafka", "partitions")), name);
                Assert.That((string?)spec["replicas"], Is.EqualTo(Value(environment, "kafka", "replicationFactor")), name);
                Assert.That((string?)spec["config"]!["cleanup.policy"], Is.EqualTo(topic["cleanupPolicy"]), name);
                Assert.That(spec["config"]!["retention.ms"] is null, Is.EqualTo(topic["cleanupPolicy"] == "compact"), $"{name}: retention by time only on delete topics");
                Assert.That((string?)topics[name]["metadata"]!["labels"]!["strimzi.io/cluster"], Is.EqualTo(Value(environment, "kafka", "cluster")));
            });
        }

        Assert.That((string?)topics["GiftCertificates.State"]["spec"]!["config"]!["cleanup.policy"], Is.EqualTo("compact"));
        Assert.That((string?)topics["All_Clients"]["spec"]!["config"]!["cleanup.policy"], Is.EqualTo("compact"));
        Assert.That((string?)topics["GiftCertificates.Audit"]["spec"]!["config"]!["retention.ms"], Is.EqualTo(Value(environment, "topics", "auditRetentionMs")));
    }

    [TestCaseSource(typeof(Chart), nameof(Chart.Environments))]
    public void KafkaUsers_GrantEachTeamOnlyWhatItNeeds(string environment)
    {
        var app = Value(environment, "kafka", "applicationId");
        var users = Manifests(environment).OfKind("KafkaUser").ToDictionary(u => (string)u["metadata"]!["labels"]!["gcp-streams/team"]!, Acls);
        Assert.That(users.Keys, Is.EquivalentTo(new[] { "gcp", "payments", "orders", "crm", "bi" }), "POS, the Internet Store and support use HTTP only: no Kafka user");
        Assert.Multiple(() =>
        {
            Assert.That(users["payments"], Is.EquivalentTo(new[] { "topic:All_Payments:literal:Describe,Write" }));
            Assert.That(users["orders"], Is.EquivalentTo(new[] { "topic:All_SalesOrder:literal:Describe,Write" }));
            Assert.That(users["crm"], Is.EquivalentTo(new[]
            {
                "topic:GiftCertificates.Stream:literal:Describe,Read", "topic:CRM.NotificationResults:literal:Describe,Read,Write",
                "topic:All_Clients:literal:Describe,Read,Write", "group:gcp-crm-:prefix:Read",
            }));
            Assert.That(users["bi"], Is.EquivalentTo(new[] { "topic:GiftCertificates.Stream:literal:Describe,Read", "topic:GiftCertificates.DailyReport:literal:Describe,Read", "group:bi-:prefix:Read" }));
            Assert.That(users["gcp"], Is.EquivalentTo(new[]
            {
                "topic:All_SalesOrder:literal:Describe,Read", "topic:All_Payments:literal:Describe,Read", "topic:All_Clients:literal:Describe,Read",
                "topic:CRM.NotificationResults:literal:Describe,Read", "topic:GiftCertificates.Commands:literal:Describe,Read,Write",
                "topic:GiftCertificates.Stream:literal:Describe,Read,Write", "topic:GiftCertificates.State:literal:Describe,Read,Write",
                "topic:GiftCertificates.Replies:literal:Describe,Read,Write", "topic:GiftCertificates.DeadLetter:literal:Describe,Write",
                "topic:GiftCertificates.Audit:literal:Describe,Write", "topic:GiftCertificates.DailyReport:literal:Describe,Read,Write",
                $"topic:{app}-:prefix:Describe,Read,Write", $"group:{app}:prefix:Describe,Read", $"transactionalId:{app}:prefix:Describe,Write",
            }));
        });
        foreach (var acl in users.Values.SelectMany(a => a))
        {
            Assert.That(acl, Does.Not.Contain(":*:").And.Not.Contain("All,").And.Not.Contain("Alter").And.Not.Contain("Delete").And.Not.Contain("Create"), acl);
        }
    }

    private static List<string> Acls(JsonObject user) =>
        [.. user["spec"]!["authorization"]!["acls"]!.AsArray().Select(a =>
            $"{a!["resource"]!["type"]}:{a["resource"]!["name"]}:{a["resource"]!["patternType"]}:{string.Join(',', a["operations"]!.AsArray().Select(o => (string)o!).Order(StringComparer.Ordinal))}")];

    [TestCaseSource(typeof(Chart), nameof(Chart.Environments))]
    public void TheStatefulSet_KeepsAStateDirPerPod_ProbesTheHealthEndpoints_AndStopsLaterThanTheStream(string environment)
    {
        var set = Manifests(environment).OfKind("StatefulSet").Single();
        var spec = set["spec"]!;
        var pod = spec["template"]!["spec"]!;
        var container = pod["containers"]!.AsArray().Single()!;
        var config = Manifests(environment).OfKind("ConfigMap").Single(c => ((string)c["metadata"]!["name"]!).EndsWith("-config", StringComparison.Ordinal))["data"]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)spec["replicas"], Is.EqualTo(Value(environment, "replicas")));
            Assert.That(int.Parse((string)spec["replicas"]!), Is.LessThanOrEqualTo(int.Parse(Value(environment, "kafka", "partitions"))), "partitions bound the instances");
            Assert.That((string?)spec["podManagementPolicy"], Is.EqualTo("Parallel"));
            Assert.That((string?)spec["serviceName"], Does.EndWith("-headless"));
            Assert.That((string?)spec["volumeClaimTemplates"]![0]!["metadata"]!["name"], Is.EqualTo("state"));
            Assert.That(container["volumeMounts"]!.AsArray().Select(m => (string?)m!["mountPath"]), Does.Contain("/var/lib/gcp-streams"));
            Assert.That((string?)config["Kafka__StateDir"], Does.StartWith("/var/lib/gcp-streams/"));
            Assert.That((string?)container["livenessProbe"]!["httpGet"]!["path"], Is.EqualTo("/health/live"));
            Assert.That((string?)container["readinessProbe"]!["httpGet"]!["path"], Is.EqualTo("/health/ready"));
            Assert.That(int.Parse((string)pod["terminationGracePeriodSeconds"]!), Is.GreaterThan(int.Parse((string)config["DOTNET_shutdownTimeoutSeconds"]!)));
            Assert.That(int.Parse((string)config["DOTNET_shutdownTimeoutSeconds"]!), Is.GreaterThan(30), "the host must wait for the stream's 30 s close (StreamService.CloseTimeout)");
            Assert.That((string?)container["securityContext"]!["readOnlyRootFilesystem"], Is.EqualTo("true"));
            Assert.That((string?)pod["securityContext"]!["runAsNonRoot"], Is.EqualTo("true"));
            Assert.That(container["resources"]!["limits"]!["memory"], Is.Not.Null);
            Assert.That(container["env"]!.AsArray().Select(e => (string?)e!["name"]), Does.Contain("Kafka__Settings__group.instance.id"), "static membership: the pod name");
            Assert.That((string?)config["Kafka__Mode"], Is.EqualTo("Cluster"));
            Assert.That((string?)config["Kafka__Partitions"], Is.EqualTo(Value(environment, "kafka", "partitions")));
            Assert.That((string?)config["Auth__Mode"], Is.EqualTo("Authority"));
            Assert.That(Manifests(environment).OfKind("PodDisruptionBudget").Count(), Is.EqualTo(1));
            Assert.That(Manifests(environment).OfKind("Service").Select(s => (string?)s["spec"]!["clusterIP"]), Does.Contain("None"), "a headless Service");
        });
    }

    [TestCaseSource(typeof(Chart), nameof(Chart.Environments))]
    public void NoSecretValue_IsRendered_SecretsComeFromExistingSecrets(string environment)
    {
        var manifests = Manifests(environment);
        var (_, text, _) = Chart.Template(environment);
        Assert.Multiple(() =>
        {
            Assert.That(manifests.OfKind("Secret"), Is.Empty, "the chart never makes a Secret: the secret store does");
            foreach (var secret in new[] { "Gcp__NumberingKey", "Gcp__CvcKeys__1", "Kafka__SaslPassword", "Gcp__CommandSigningKey", "Gcp__SupportTickets__SigningKeysPem" })
            {
                var env = manifests.OfKind("StatefulSet").Single()["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray().Single(e => (string?)e!["name"] == secret)!;
                Assert.That(env["value"], Is.Null, secret);
                Assert.That(env["valueFrom"]!["secretKeyRef"], Is.Not.Null, secret);
            }

            // the development keys and secrets the service refuses in cluster mode, and anything that looks like a key
            foreach (var forbidden in new[] { "-secret", "BEGIN RSA", "BEGIN PRIVATE", "password:", "SaslPassword:", "NumberingKey:", "CvcKeys__1:" })
            {
                Assert.That(text, Does.Not.Contain(forbidden), forbidden);
            }
        });
    }

    [TestCaseSource(typeof(Chart), nameof(Chart.Environments))]
    public void ThePrometheusRule_PassesPromtool(string environment)
    {
        var rule = Manifests(environment).OfKind("PrometheusRule").Single();
        var file = Path.Combine(Path.GetTempPath(), $"gcp-streams-rules-{environment}-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, new SerializerBuilder().JsonCompatible().Build().Serialize(YamlOf(rule["spec"]!)));
        try
        {
            var (code, output, error) = Chart.Run(Chart.Promtool, ["check", "rules", file]);
            Assert.That(code, Is.Zero, output + error);
            Assert.That(output, Does.Contain("SUCCESS"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void ThePrometheusRule_HasTheAlertsOfTheRunbook()
    {
        var alerts = Chart.Alerts(Manifests("prod")).Select(a => a.Name).ToList();
        var runbook = File.ReadAllText(Path.Combine(Chart.RepoRoot, "docs", "operations.md"));
        Assert.That(alerts, Is.SupersetOf(new[]
        {
            "GcpStreamsNotRunning", "GcpStreamsConsumerLagGrowing", "GcpStreamsDeadLetters", "GcpStreamsAlertRate", "GcpStreamsPoolLow",
            "GcpStreamsIssueBlocked", "GcpStreamsEndToEndLatencyHigh", "GcpStreamsApiLatencyHigh",
        }));
        foreach (var alert in alerts)
        {
            Assert.That(runbook, Does.Contain("### " + alert), $"docs/operations.md explains {alert}");
        }
    }

    [Test]
    public void TheDashboard_IsValidJson_WithAPanelPerAlertMetric()
    {
        var dashboard = Chart.Dashboard(Manifests("prod"));
        var expressions = Chart.DashboardExpressions(dashboard);
        var used = expressions.SelectMany(Chart.MetricNames).ToHashSet(StringComparer.Ordinal);
        var alerting = Chart.Alerts(Manifests("prod")).SelectMany(a => Chart.MetricNames(a.Expression)).ToHashSet(StringComparer.Ordinal);
        Assert.That(used, Is.SupersetOf(alerting), "every metric an alert reads has a panel");
    }

    [Test]
    public void MissingRequiredValues_FailTheRendering()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Chart.Template("dev", "environment=").Err, Does.Contain("environment is required"));
            Assert.That(Chart.Template("dev", "environment=staging").Err, Does.Contain("environment must be dev, qa or prod"));
            Assert.That(Chart.Run(Chart.Helm, ["template", "x", Chart.ChartDir]).Code, Is.Not.Zero, "the defaults alone are no environment");
            Assert.That(Chart.Template("prod", "replicas=13").Err, Does.Contain("must not exceed kafka.partitions"));
            Assert.That(Chart.Template("prod", "secrets.numberingKey.name=").Err, Does.Contain("secrets.numberingKey.name"));
            Assert.That(Chart.Template("prod", "secrets.commandSigningKey.name=").Err, Does.Contain("secrets.commandSigningKey.name"));
            Assert.That(Chart.Template("prod", "supportTickets.issuer=").Err, Does.Contain("supportTickets.issuer"));
            Assert.That(Chart.Template("dev", "kafka.numStreamThreads=2").Err, Does.Contain("staticMembership"));
        });
    }

    private static object? YamlOf(JsonNode? node) => node switch
    {
        JsonObject o => o.ToDictionary(p => p.Key, p => YamlOf(p.Value)),
        JsonArray a => a.Select(YamlOf).ToList(),
        JsonValue v => v.ToString(),
        _ => null,
    };
}
