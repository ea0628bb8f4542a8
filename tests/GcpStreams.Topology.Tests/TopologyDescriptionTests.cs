using System.Text.RegularExpressions;
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
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "architecture.md"));
        var match = DescriptionBlock().Match(doc);

        Assert.That(match.Success, Is.True, "docs/architecture.md needs a ```topology block with the description");
        Assert.That(Normalize(match.Groups[1].Value), Is.EqualTo(actual),
            "the topology changed: paste the new description (TopologyDescriptionTests prints it) into docs/architecture.md\n" + actual);
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
