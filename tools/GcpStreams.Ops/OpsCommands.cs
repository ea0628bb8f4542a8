using System.Globalization;
using GcpStreams.Client;
using GcpStreams.Serialization;

namespace GcpStreams.Ops;

/// <summary>The commands of <c>gcp-ops</c>; <c>Program</c> runs them, tests call <see cref="Run"/> in-process.</summary>
internal static class OpsCommands
{
    public const string Usage = """
        usage:
          gcp-ops ledger-check --bootstrap SERVERS --schema-registry URL [--show N] [--explain N] [--timeout-seconds N]
          gcp-ops secrecy-scan [--bootstrap SERVERS --schema-registry URL] [--cvc DIGITS]... [--cvc-file FILE] [--cvc-key VERSION=BASE64]...
                               [--dir DIRECTORY]... [--file FILE]... [--show N] [--timeout-seconds N]
          gcp-ops report-export --bootstrap SERVERS --schema-registry URL --from yyyy-MM-dd --to yyyy-MM-dd [--format csv|parquet]
                                [--part marts|currencies|control] [--channel CHANNEL] [--out FILE] [--timeout-seconds N]
        exit 0: consistent / nothing found; 1: differences / a CVC found (where is printed, the CVC masked); 2: bad arguments.
        """;

    private static readonly HashSet<string> Common = ["--bootstrap", "--schema-registry", "--schema-registry-basic-auth", "--show", "--timeout-seconds"];

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        try
        {
            return args.Count == 0 ? Fail(error, "a command is needed.")
                : args[0] == "ledger-check" ? LedgerCheckCommand(OpsArguments.Parse([.. args.Skip(1)], new HashSet<string>([.. Common, "--explain"])), output)
                : args[0] == "report-export" ? ReportExportCommand(OpsArguments.Parse([.. args.Skip(1)], new HashSet<string>([.. Common, "--from", "--to", "--format", "--part", "--channel", "--out"])), output)
                : args[0] == "secrecy-scan" ? SecrecyScanCommand(OpsArguments.Parse([.. args.Skip(1)], new HashSet<string>([.. Common, "--cvc", "--cvc-file", "--cvc-key", "--dir", "--file"])), output)
                : Fail(error, $"unknown command '{args[0]}'.");
        }
        catch (ArgumentException e)
        {
            return Fail(error, e.Message);
        }
        catch (Exception e) when (e is Confluent.Kafka.KafkaException or TimeoutException or IOException or UnauthorizedAccessException or HttpRequestException)
        {
            error.WriteLine($"gcp-ops {args[0]}: {e.Message}");
            return 2;
        }
    }

    private static int LedgerCheckCommand(OpsArguments args, TextWriter output)
    {
        var reader = new TopicReader(args.Required("--bootstrap"), Timeout(args));
        using var registry = Registry(args, required: true)!;
        return new LedgerCheck(reader, new Codec(registry), output).Run(args.Number("--show", 20, 1, 10_000), args.Number("--explain", 0, 0, 1_000));
    }

    private static int ReportExportCommand(OpsArguments args, TextWriter output)
    {
        var from = Day(args, "--from");
        var to = Day(args, "--to");
        if (to < from)
        {
            throw new ArgumentException($"--to ({to:yyyy-MM-dd}) is before --from ({from:yyyy-MM-dd}).");
        }

        var format = args.Optional("--format") ?? ReportExport.CsvFormat;
        if (format is not (ReportExport.CsvFormat or ReportExport.ParquetFormat))
        {
            throw new ArgumentException($"--format is '{format}'; it must be {ReportExport.CsvFormat} or {ReportExport.ParquetFormat}.");
        }

        var part = args.Optional("--part") ?? ReportExport.Parts[0];
        if (!ReportExport.Parts.Contains(part, StringComparer.Ordinal))
        {
            throw new ArgumentException($"--part is '{part}'; it must be {string.Join(", ", ReportExport.Parts)}.");
        }

        var channel = args.Optional("--channel");
        if (channel is not null && (!Enum.TryParse<Contracts.Channel>(channel, out var parsed) || parsed.ToString() != channel))
        {
            throw new ArgumentException($"--channel '{channel}' is not a channel ({string.Join(", ", Enum.GetNames<Contracts.Channel>())}).");
        }

        var path = args.Optional("--out") ?? Path.Combine("artifacts", "reports", string.Create(CultureInfo.InvariantCulture, $"daily-report-{(part == ReportExport.Parts[0] ? "" : part + "-")}{from:yyyy-MM-dd}-{to:yyyy-MM-dd}.{format}"));
        var reader = new TopicReader(args.Required("--bootstrap"), Timeout(args));
        using var registry = Registry(args, required: true)!;
        return new ReportExport(reader, new Codec(registry), output).Run(from, to, channel, format, path, part);
    }

    private static DateOnly Day(OpsArguments args, string name) =>
        DateOnly.TryParseExact(args.Required(name), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : throw new ArgumentException($"{name} is '{args.Optional(name)}'; it must be a day as yyyy-MM-dd.");

    private static int SecrecyScanCommand(OpsArguments args, TextWriter output)
    {
        var bootstrap = args.Optional("--bootstrap");
        var reader = bootstrap is null ? null : new TopicReader(bootstrap, Timeout(args));
        var cvcs = new List<SecretCvc>();
        var given = args.All("--cvc").ToList();
        if (args.Optional("--cvc-file") is { } cvcFile)
        {
            given.AddRange(File.ReadAllLines(cvcFile).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
        }

        for (var i = 0; i < given.Count; i++)
        {
            if (given[i].Length is < 3 or > 8 || !given[i].All(char.IsAsciiDigit))
            {
                throw new ArgumentException($"CVC #{i + 1} of --cvc / --cvc-file is not 3-8 digits.");
            }

            cvcs.Add(new SecretCvc(given[i], $"CVC #{i + 1} given"));
        }

        var keys = args.All("--cvc-key").Select(CvcKey).ToDictionary(k => k.Version, k => k.Key);
        if (keys.Count > 0)
        {
            if (reader is null)
            {
                throw new ArgumentException("--cvc-key needs --bootstrap and --schema-registry: the disclosures are read from the stream.");
            }

            using var registry = Registry(args, required: true)!;
            var (disclosed, withoutKey) = new SecrecyScan(reader, output).DisclosedCvcs(new Codec(registry), keys);
            cvcs.AddRange(disclosed);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"secrecy-scan: {disclosed.Count} disclosed CVC(s) derived from the stream's cvc.disclosed events{(withoutKey > 0 ? $" ({withoutKey} of a key version not given)" : string.Empty)}"));
        }

        if (cvcs.Count == 0 && keys.Count == 0)
        {
            throw new ArgumentException("nothing to look for: give --cvc, --cvc-file or --cvc-key.");
        }

        var scan = new SecrecyScan(reader, output);
        return scan.Report(scan.Scan(cvcs, args.All("--dir"), args.All("--file")), args.Number("--show", 20, 1, 10_000));
    }

    private static (int Version, byte[] Key) CvcKey(string text)
    {
        var at = text.IndexOf('=', StringComparison.Ordinal);
        if (at <= 0 || !int.TryParse(text.AsSpan(0, at), NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
        {
            throw new ArgumentException("--cvc-key must be VERSION=BASE64 (e.g. 1=$Gcp__CvcKeys__1).");
        }

        try
        {
            var key = Convert.FromBase64String(text[(at + 1)..]);
            return key.Length >= 16 ? (version, key) : throw new ArgumentException($"--cvc-key of version {version} must decode to at least 16 bytes.");
        }
        catch (FormatException)
        {
            throw new ArgumentException($"--cvc-key of version {version} is not base64."); // the key itself is never shown
        }
    }

    private static Confluent.SchemaRegistry.ISchemaRegistryClient? Registry(OpsArguments args, bool required)
    {
        var url = required ? args.Required("--schema-registry") : args.Optional("--schema-registry");
        return url is null ? null : SchemaRegistryClients.Create(new SchemaRegistryOptions { Url = url, BasicAuthUserInfo = args.Optional("--schema-registry-basic-auth") });
    }

    private static TimeSpan Timeout(OpsArguments args) => TimeSpan.FromSeconds(args.Number("--timeout-seconds", 60, 1, 3_600));

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine($"gcp-ops: {message}");
        error.WriteLine(Usage);
        return 2;
    }
}
