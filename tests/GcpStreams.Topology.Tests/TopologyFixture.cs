using System.Globalization;
using System.Text;
using Avro.Specific;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using GcpStreams.Serialization;
using GcpStreams.Topology;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// One TopologyTestDriver over the real topology, with a fresh state dir and in-process schema registry per test.
/// Inputs are encoded and outputs decoded with the same Avro codec the service uses.
/// </summary>
internal sealed class TopologyFixture : IDisposable
{
    public const string AppId = "gcp-test";
    public static readonly DateTime T0 = new(2026, 11, 27, 10, 0, 0, DateTimeKind.Utc);
    public static readonly TopologySettings Settings = new()
    {
        ApplicationId = AppId,
        NumberingKey = Encoding.UTF8.GetBytes("topology-test-numbering-key-32b!"),
        CvcKeyVersion = 2,
        ReservationSweepInterval = TimeSpan.FromSeconds(1),
    };

    private static readonly ByteArraySerDes Bytes = new();
    private readonly string stateDir = Path.Combine(Path.GetTempPath(), "gcp-ttd-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, TestInputTopic<byte[], byte[]>> inputs = [];
    private readonly Dictionary<string, TestOutputTopic<byte[], byte[]>> outputs = [];
    private int next;

    public TopologyFixture()
    {
        Registry = new InProcessSchemaRegistry();
        Codec = new Codec(Registry);
        var builder = new StreamBuilder();
        GcpTopology.Build(builder, Settings, Codec);
        Topology = builder.Build();
        var config = new StreamConfig
        {
            ApplicationId = AppId,
            StateDir = stateDir,
            Logger = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Warning).AddConsole()),
        };
        Driver = new TopologyTestDriver(Topology, config);
        foreach (var topic in Topics.Inputs)
        {
            inputs[topic] = Driver.CreateInputTopic(topic, Bytes, Bytes);
        }

        foreach (var topic in Topics.Outputs)
        {
            outputs[topic] = Driver.CreateOutputTopic(topic, TimeSpan.FromMilliseconds(50), Bytes, Bytes);
        }
    }

    public InProcessSchemaRegistry Registry { get; }
    public Codec Codec { get; }
    public Streamiz.Kafka.Net.Stream.Topology Topology { get; }
    public TopologyTestDriver Driver { get; }

    public string NextId(string prefix) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{++next}");

    public void Pipe<T>(string topic, string key, T value, DateTime? timestamp = null)
        where T : class, ISpecificRecord =>
        PipeRaw(topic, Encoding.UTF8.GetBytes(key), Codec.Encode(topic, value), timestamp);

    public void PipeRaw(string topic, byte[]? key, byte[]? value, DateTime? timestamp = null) =>
        inputs[topic].PipeInput(key!, value!, timestamp ?? T0, new Headers());

    /// <summary>Everything written to an output topic since the last read, decoded.</summary>
    public List<Output<T>> Read<T>(string topic)
        where T : class, ISpecificRecord =>
        [.. outputs[topic].ReadKeyValueList().Select(r => new Output<T>(
            r.Message.Key is null ? null : Encoding.UTF8.GetString(r.Message.Key),
            Codec.Decode<T>(topic, r.Message.Value),
            r.Message.Headers?.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes()), StringComparer.Ordinal) ?? [],
            r.Message.Value))];

    public List<Output<C.GiftCertificateEvent>> Events() => Read<C.GiftCertificateEvent>(Topics.Stream);

    public List<Output<C.CertificateState>> States() => Read<C.CertificateState>(Topics.State);

    public List<Output<C.CommandReply>> Replies() => Read<C.CommandReply>(Topics.Replies);

    public List<Output<C.DeadLetter>> DeadLetters() => Read<C.DeadLetter>(Topics.DeadLetter);

    public void Dispose()
    {
        Driver.Dispose();
        try
        {
            Directory.Delete(stateDir, recursive: true);
        }
        catch (IOException)
        {
            // RocksDB may still hold a file on some runs; the temp dir is cleaned by the OS
        }
    }
}

internal sealed record Output<T>(string? Key, T Value, IReadOnlyDictionary<string, string> Headers, byte[] Bytes);
