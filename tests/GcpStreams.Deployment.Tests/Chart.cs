using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace GcpStreams.Deployment.Tests;

/// <summary>
/// The chart and the tools that check it: the repository's paths, <c>helm</c> (from <c>make setup</c>, in <c>.tools/bin</c>),
/// <c>promtool</c> (Debian's prometheus package), the rendered manifests as JSON, and the metric names of PromQL expressions.
/// Shared with the integration tests (linked), which compare those names with a real scrape of /metrics.
/// </summary>
internal static partial class Chart
{
    public static string RepoRoot { get; } = FindRoot();

    public static string ChartDir => Path.Combine(RepoRoot, "charts", "gcp-streams");

    public static readonly string[] Environments = ["dev", "qa", "prod"];

    public static string Helm
    {
        get
        {
            var helm = Path.Combine(RepoRoot, ".tools", "bin", "helm");
            return File.Exists(helm) ? helm : throw new InvalidOperationException($"{helm} is missing: run `make setup` (it installs Helm into .tools/)");
        }
    }

    public static string Promtool =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(d => Path.Combine(d, "promtool")).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("promtool is missing: run `make setup` (it installs Debian's prometheus package)");

    /// <summary>Runs a tool; returns its exit code, standard output and standard error.</summary>
    public static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, string? stdin = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, WorkingDirectory = RepoRoot };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in 2 minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary><c>helm template</c> with the environment's values file (and extra <c>--set</c> pairs); the text, or the failure.</summary>
    public static (int Code, string Out, string Err) Template(string environment, params string[] sets) =>
        Run(Helm, ["template", "gcp-streams", ChartDir, "--namespace", "gcp", "-f", Path.Combine(ChartDir, $"values-{environment}.yaml"),
            .. sets.SelectMany(s => new[] { "--set", s })]);

    /// <summary>The rendered manifests of one environment, as JSON objects (one per YAML document).</summary>
    public static IReadOnlyList<JsonObject> Render(string environment)
    {
        var (code, output, error) = Template(environment);
        return code == 0 ? Parse(output) : throw new InvalidOperationException($"helm template ({environment}) failed: {error}");
    }

    public static IReadOnlyList<JsonObject> Parse(string yaml)
    {
        var deserializer = new DeserializerBuilder().Build();
        var json = new SerializerBuilder().JsonCompatible().Build();
        var parser = new YamlDotNet.Core.Parser(new StringReader(yaml));
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        var documents = new List<JsonObject>();
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
        {
            var document = deserializer.Deserialize<object?>(parser);
            if (document is not null)
            {
                documents.Add(JsonNode.Parse(json.Serialize(document))!.AsObject());
            }
        }

        return documents;
    }

    public static IEnumerable<JsonObject> OfKind(this IEnumerable<JsonObject> manifests, string kind) =>
        manifests.Where(m => (string?)m["kind"] == kind);

    /// <summary>
    /// The metric names a PromQL expression reads: identifiers that are neither functions, keywords, label names (inside
    /// braces or <c>by</c>/<c>without</c>/<c>on</c>/<c>ignoring</c> lists), durations nor strings.
    /// </summary>
    public static IReadOnlySet<string> MetricNames(string expression)
    {
        var text = StringLiteral().Replace(expression, " ");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match m in Identifier().Matches(text))
        {
            var name = m.Groups["name"].Value;
            if (!m.Groups["call"].Success && !Keywords.Contains(name))
            {
                names.Add(name);
            }
        }

        return names;
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal) { "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan" };

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w:.])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<call>\s*\()?")]
    private static partial Regex Identifier();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GcpStreams.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("GcpStreams.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>The alerts and the dashboard of a rendering.</summary>
internal static partial class Chart
{
    public static IReadOnlyList<(string Name, string Expression)> Alerts(IEnumerable<JsonObject> manifests) =>
        [.. manifests.OfKind("PrometheusRule").SelectMany(r => r["spec"]!["groups"]!.AsArray()).SelectMany(g => g!["rules"]!.AsArray())
            .Select(r => ((string)r!["alert"]!, (string)r["expr"]!))];

    public static JsonObject Dashboard(IEnumerable<JsonObject> manifests) =>
        JsonNode.Parse((string)manifests.OfKind("ConfigMap").Single(c => ((string)c["metadata"]!["name"]!).EndsWith("-dashboard", StringComparison.Ordinal))["data"]!["gcp-streams.json"]!)!.AsObject();

    public static IReadOnlyList<string> DashboardExpressions(JsonObject dashboard) =>
        [.. dashboard["panels"]!.AsArray().Where(p => p!["targets"] is not null).SelectMany(p => p!["targets"]!.AsArray()).Select(t => (string)t!["expr"]!)];
}
