using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using GcpStreams.Client;
using GcpStreams.Domain;
using C = GcpStreams.Contracts;

namespace GcpStreams.Ops;

/// <summary>A CVC to look for, and how the scan names it in its output: never the digits themselves.</summary>
/// <param name="Cvc">The plaintext. Never printed.</param>
/// <param name="Label">What the output says instead: its place in the arguments, or the certificate it belongs to.</param>
internal sealed record SecretCvc(string Cvc, string Label)
{
    /// <summary>The masked form: as many <c>*</c> as digits.</summary>
    public string Masked => new('*', Cvc.Length);

    public override string ToString() => $"{Label} ({Masked})";
}

/// <summary>
/// <c>make secrecy-scan</c>: looks for CVC plaintexts in every topic of the cluster (raw key, value and header bytes), in the
/// files under the given directories (state dirs) and in the given files (logs). The CVCs are given (arguments, a file of
/// them) and, with the CVC keys (<c>--cvc-key VERSION=BASE64</c>), derived for every certificate whose CVC the stream says
/// was disclosed (<c>cvc.disclosed</c>, to the notifier or to support). A CVC is found as text on its own (not inside a longer
/// number, a decimal, a date or a time), as an Avro string or as a JSON string. Exit 1 on any hit, naming where; the output
/// shows CVCs masked only.
/// </summary>
internal sealed class SecrecyScan(TopicReader? reader, TextWriter output)
{
    public sealed record Hit(SecretCvc Cvc, string Where);

    public sealed record Result(int Cvcs, int Topics, long Records, int Files, IReadOnlyList<Hit> Hits);

    /// <summary>The CVCs the stream says were disclosed, derived with the given keys (version → key); those whose version has no key are counted.</summary>
    public (List<SecretCvc> Cvcs, int WithoutKey) DisclosedCvcs(Codec codec, IReadOnlyDictionary<int, byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var found = new Dictionary<string, SecretCvc>(StringComparer.Ordinal);
        var withoutKey = 0;
        foreach (var record in reader.Read(Topics.Stream.Name))
        {
            if (record.Message.Value is null
                || record.Message.Headers?.TryGetLastBytes(GcpStreams.Client.Header.EventType, out var type) != true
                || Encoding.UTF8.GetString(type) != EventTypes.CvcDisclosed)
            {
                continue;
            }

            var e = codec.Decode(Topics.Stream, record.Message.Value, record.Message.Headers);
            if (e.payload is not C.CvcDisclosed disclosed || e.certificateId is not { } certificate)
            {
                continue;
            }

            if (!keys.TryGetValue(disclosed.keyVersion, out var key))
            {
                withoutKey++;
                continue;
            }

            var cvc = Cvc.Derive(key, disclosed.keyVersion, certificate);
            found.TryAdd(cvc + "|" + certificate, new SecretCvc(cvc, $"the CVC of {certificate} (disclosed, key v{disclosed.keyVersion})"));
        }

        return ([.. found.Values], withoutKey);
    }

    public Result Scan(IReadOnlyList<SecretCvc> cvcs, IEnumerable<string> directories, IEnumerable<string> files)
    {
        var patterns = cvcs.Select(c => new Pattern(c)).ToList();
        var hits = new List<Hit>();
        var topics = 0;
        long records = 0;
        if (reader is not null)
        {
            foreach (var topic in reader.TopicNames())
            {
                topics++;
                foreach (var record in reader.Read(topic))
                {
                    records++;
                    var where = string.Create(CultureInfo.InvariantCulture, $"topic {topic} partition {record.Partition.Value} offset {record.Offset.Value}");
                    Look(patterns, record.Message.Key, $"{where} key", hits);
                    Look(patterns, record.Message.Value, $"{where} value", hits);
                    foreach (var header in record.Message.Headers ?? [])
                    {
                        Look(patterns, header.GetValueBytes(), $"{where} header {header.Key}", hits);
                    }
                }
            }
        }

        var scanned = 0;
        foreach (var file in directories.SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories)).Concat(files))
        {
            scanned++;
            Look(patterns, ReadShared(file), $"file {file}", hits);
        }

        return new Result(cvcs.Count, topics, records, scanned, hits);
    }

    public int Report(Result result, int maxShown)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"secrecy-scan: {result.Cvcs} CVC(s) looked for in {result.Records} records of {result.Topics} topics and {result.Files} files"));
        if (result.Hits.Count == 0)
        {
            output.WriteLine("secrecy-scan: no CVC found");
            return 0;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"secrecy-scan: {result.Hits.Count} hit(s); the first {Math.Min(maxShown, result.Hits.Count)}:"));
        foreach (var hit in result.Hits.Take(maxShown))
        {
            output.WriteLine($"  {hit.Cvc} in {hit.Where}");
        }

        return 1;
    }

    private static void Look(List<Pattern> patterns, byte[]? data, string where, List<Hit> hits)
    {
        if (data is null || data.Length == 0)
        {
            return;
        }

        string? text = null;
        foreach (var pattern in patterns)
        {
            if (pattern.Encodings.Any(e => data.AsSpan().IndexOf(e) >= 0) || pattern.Standalone.IsMatch(text ??= Encoding.Latin1.GetString(data)))
            {
                hits.Add(new Hit(pattern.Cvc, where));
            }
        }
    }

    private static byte[] ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        file.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>How a CVC shows in bytes: text on its own, an Avro string (its zigzag length, then the digits), a JSON string.</summary>
    private sealed class Pattern(SecretCvc cvc)
    {
        public SecretCvc Cvc { get; } = cvc;

        public Regex Standalone { get; } = new($@"(?<![0-9A-Za-z.,:/_-]){Regex.Escape(cvc.Cvc)}(?![0-9A-Za-z.,:/_-])", RegexOptions.CultureInvariant);

        public byte[][] Encodings { get; } = [[(byte)(cvc.Cvc.Length * 2), .. Encoding.ASCII.GetBytes(cvc.Cvc)], Encoding.ASCII.GetBytes($"\"{cvc.Cvc}\"")];
    }
}
