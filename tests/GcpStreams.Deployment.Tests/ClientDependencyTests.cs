using System.Reflection;
using System.Text.Json.Nodes;

namespace GcpStreams.Deployment.Tests;

/// <summary>
/// What a caller of the service deploys never carries Streamiz: the client library (GcpStreams.Client), the API's read model
/// and the traffic generator reference neither Streamiz.Kafka.Net nor anything that does. Checked twice: in the compiled
/// assemblies (every assembly reference, followed through the project's own assemblies and the packages', as the runtime
/// would load them) and in the restore graph of each project (obj/project.assets.json: every package and project it ships
/// with, referenced directly or not).
/// </summary>
public class ClientDependencyTests
{
    private const string Streamiz = "Streamiz.Kafka.Net";

    [TestCase(typeof(Client.CommandChannel))]
    [TestCase(typeof(Api.ReadModel.CertificateReadModel))]
    [TestCase(typeof(Traffic.Shop))]
    public void TheAssembly_ReferencesNoStreamiz_NotEvenThroughAnotherAssembly(Type entry)
    {
        var start = entry.Assembly;
        var referencedBy = new Dictionary<string, string>(StringComparer.Ordinal) { [start.GetName().Name!] = "" };
        var pending = new Queue<Assembly>([start]);
        while (pending.TryDequeue(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (IsFramework(reference) || !referencedBy.TryAdd(reference.Name!, assembly.GetName().Name!))
                {
                    continue;
                }

                Assert.That(reference.Name, Does.Not.StartWith(Streamiz), $"{start.GetName().Name} reaches Streamiz: {Chain(referencedBy, reference.Name!)}");
                if (TryLoad(reference) is { } loaded)
                {
                    pending.Enqueue(loaded);
                }
            }
        }

        Assert.That(referencedBy.Keys, Has.Some.StartsWith("Confluent.Kafka"), "the walk followed the references (sanity)");
    }

    [TestCase("topology/GcpStreams.Client")]
    [TestCase("interactive-query-api/GcpStreams.Api.ReadModel")]
    [TestCase("tools/GcpStreams.Traffic")]
    public void TheProject_RestoresNoStreamiz(string project)
    {
        var assets = Path.Combine(Chart.RepoRoot, project, "obj", "project.assets.json");
        Assert.That(File.Exists(assets), Is.True, $"{assets} is missing: restore the solution first (make build)");

        var libraries = JsonNode.Parse(File.ReadAllText(assets))!["libraries"]!.AsObject().Select(l => l.Key).ToList();

        Assert.That(libraries, Has.Some.StartsWith("Confluent.Kafka/"), "the restore graph lists the packages (sanity)");
        Assert.That(libraries.Where(l => l.StartsWith(Streamiz + "/", StringComparison.OrdinalIgnoreCase) || l.StartsWith("GcpStreams.Topology/", StringComparison.Ordinal)),
            Is.Empty, $"{project} ships with Streamiz (or the topology that brings it): reference GcpStreams.Client, not GcpStreams.Topology");
    }

    /// <summary>The shared framework (System.*, Microsoft.*, netstandard) never references Streamiz: not followed.</summary>
    private static bool IsFramework(AssemblyName name) =>
        name.Name is null or "netstandard" or "mscorlib" || name.Name.StartsWith("System.", StringComparison.Ordinal) || name.Name == "System"
        || name.Name.StartsWith("Microsoft.", StringComparison.Ordinal);

    /// <summary>The referenced assembly as the runtime would load it; null when this test's output does not carry it (nothing to follow).</summary>
    private static Assembly? TryLoad(AssemblyName name)
    {
        try
        {
            return Assembly.Load(name);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static string Chain(Dictionary<string, string> referencedBy, string name)
    {
        var chain = new List<string> { name };
        while (referencedBy.TryGetValue(chain[^1], out var by) && by.Length > 0)
        {
            chain.Add(by);
        }

        chain.Reverse();
        return string.Join(" -> ", chain);
    }
}
