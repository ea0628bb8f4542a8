using System.Text;
using System.Text.RegularExpressions;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The CVC secrecy scan: a CVC must be in no topic (every topic on the broker, internal ones too: key, value and headers), no
/// state store file and no log line. Shared by the service's tests and the CRM notifier's (whose log and topics it scans too).
/// </summary>
internal static class CvcSecrecy
{
    /// <summary>The four digits on their own, as text (not inside a longer number, a decimal, a date or a time).</summary>
    public static Regex Standalone(string cvc) => new($@"(?<![0-9A-Za-z.,:/_-]){cvc}(?![0-9A-Za-z.,:/_-])", RegexOptions.CultureInvariant);

    /// <summary>Scans every topic of the broker, the files and the log lines for the CVC; returns where it was found and how many records were read.</summary>
    public static (List<string> Leaks, int Records) Scan(string cvc, string bootstrapServers, IEnumerable<string> files, IEnumerable<string> logLines) =>
        Scan([cvc], bootstrapServers, files, logLines);

    /// <summary>The same for several CVCs at once (every topic read once).</summary>
    public static (List<string> Leaks, int Records) Scan(IReadOnlyCollection<string> cvcs, string bootstrapServers, IEnumerable<string> files, IEnumerable<string> logLines)
    {
        var patterns = cvcs.Select(cvc => (
            Cvc: cvc,
            Text: Standalone(cvc),
            // as bytes: an Avro string (length 4 zigzag-encoded as 0x08, then the digits) or a JSON string
            Bytes: new byte[][] { [0x08, .. Encoding.ASCII.GetBytes(cvc)], Encoding.ASCII.GetBytes($"\"{cvc}\"") })).ToList();
        var leaks = new List<string>();
        var records = 0;
        foreach (var topic in Kafka.TopicNames(bootstrapServers))
        {
            foreach (var message in Kafka.ReadTopic(bootstrapServers, topic))
            {
                records++;
                var parts = new[] { message.Key, message.Value }.Concat(message.Headers?.Select(h => h.GetValueBytes()) ?? []).Where(p => p is not null).ToList();
                leaks.AddRange(patterns.Where(c => parts.Any(p => Leaks(p, c.Bytes, c.Text))).Select(c => $"CVC {c.Cvc} in topic {topic}"));
            }
        }

        foreach (var file in files)
        {
            var data = ReadShared(file);
            leaks.AddRange(patterns.Where(c => Leaks(data, c.Bytes, c.Text)).Select(c => $"CVC {c.Cvc} in file {file}"));
        }

        foreach (var line in logLines)
        {
            leaks.AddRange(patterns.Where(c => c.Text.IsMatch(line)).Select(c => $"CVC {c.Cvc} in log: {line}"));
        }

        return (leaks, records);
    }

    private static bool Leaks(byte[] data, byte[][] encodings, Regex standalone) =>
        encodings.Any(e => data.AsSpan().IndexOf(e) >= 0) || standalone.IsMatch(Encoding.Latin1.GetString(data));

    private static byte[] ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        file.CopyTo(copy);
        return copy.ToArray();
    }
}
