using System.Text.RegularExpressions;
using GcpStreams.Client;
using GcpStreams.Topology;

namespace GcpStreams.Topology.Tests;

/// <summary>docs/architecture.md shows the topology as it really is: its description block must equal Streamiz's own.</summary>
public partial class TopologyDescriptionTests
{
    [Test]
    public void ArchitectureDoc_ShowsTheTopologyAsStreamizDescribesIt()
    {
        using var f = new TopologyFixture();
        var actual = Normalize(f.Topology.Describe().ToString()!);
        var path = Path.Combine(RepositoryRoot(), "docs", "architecture.md");
        var doc = File.ReadAllText(path);
        var match = DescriptionBlock().Match(doc);
        if (match.Success && Environment.GetEnvironmentVariable("UPDATE_DOCS") == "1")
        {
            // `UPDATE_DOCS=1 dotnet test --filter ArchitectureDoc` pastes the current description into the doc
            doc = doc[..match.Groups[1].Index] + actual + "\n" + doc[(match.Groups[1].Index + match.Groups[1].Length)..];
            File.WriteAllText(path, doc);
            match = DescriptionBlock().Match(doc);
        }

        Assert.That(match.Success, Is.True, "docs/architecture.md needs a ```topology block with the description");
        Assert.That(Normalize(match.Groups[1].Value), Is.EqualTo(actual),
            "the topology changed: run `UPDATE_DOCS=1 dotnet test tests/GcpStreams.Topology.Tests --filter ArchitectureDoc` and review the doc\n" + actual);
    }

    private static string Normalize(string text) =>
        string.Join('\n', text.Replace("gcp-test", "{app}", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0));

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GcpStreams.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("GcpStreams.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("```topology\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex DescriptionBlock();
}

public class TopologyTopicsTests
{
    [Test]
    public void RequiredTopics_AreEveryTopicTheTopologyAndApiTouchPlusStoreChangelogs()
    {
        using var f = new TopologyFixture();

        var topics = TopologyTopics.Of(f.Topology, TopologyFixture.AppId);

        var internals = new InternalTopics(TopologyFixture.AppId);
        var expected = Topics.Inputs.Concat(Topics.Outputs).Concat(
        [
            internals.PoolInput.Name,
            internals.CertificateInput.Name,
            internals.OrderInput.Name,
            InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.Pools),
            InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.Certificates),
            InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.IdempotencyKeys),
            InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.Orders),
            InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.DailyReports),
            .. Reporting.ReportingTopology.Writers.Select(w => Reporting.ReportingTopology.FactsTopic(TopologyFixture.AppId, w)),
        ]);
        Assert.That(topics.Select(t => t.Name), Is.EquivalentTo(expected));
        Assert.That(topics.Where(t => t.Kind == TopicKind.Compacted).Select(t => t.Name), Is.EquivalentTo(new[]
        {
            Topics.Clients.Name, Topics.State.Name, InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.Pools), InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.Certificates),
            InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.IdempotencyKeys), InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.Orders),
            InternalTopics.Changelog(TopologyFixture.AppId, StoreNames.DailyReports), Topics.DailyReport.Name,
        }));
    }
}
