using System.Globalization;
using System.Text;
using Avro.Specific;
using Confluent.Kafka;
using GcpStreams.Client;
using GcpStreams.SchemaRegistry;
using Microsoft.Extensions.Logging;
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
        CommandSigningKey = Encoding.UTF8.GetBytes("topology-test-command-signing-key-32+"),
        CvcKeyVersion = 2,
        ReservationSweepInterval = TimeSpan.FromSeconds(1),
        // the inputs are at T0, days before the driver's wall clock: a notification's SLA would have passed at the first sweep of
        // every test that advances the wall clock (the SLA tests set their own)
        NotificationOverdueAfter = TimeSpan.FromDays(3650),
        // the BI reconciliation compares Orders with the certificate events; most tests send payments without the orders that
        // tendered them, so a mismatch alert would follow as stream time moves on (the reporting tests set their own window)
        ReconciliationTolerance = TimeSpan.FromDays(3650),
    };

    private static readonly ByteArraySerDes Bytes = new();
    private readonly string stateDir = Path.Combine(Path.GetTempPath(), "gcp-ttd-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, TestInputTopic<byte[], byte[]>> inputs = [];
    private readonly Dictionary<string, TestOutputTopic<byte[], byte[]>> outputs = [];
    private readonly Dictionary<string, List<RawOutput>> history = [];
    private readonly Dictionary<string, long> piped = [];
    private int next;

    /// <summary>The topology with <see cref="Settings"/>, or with <paramref name="settings"/> for a test that needs others.</summary>
    /// <param name="settings">The topology's settings; <see cref="Settings"/> when null.</param>
    public TopologyFixture(TopologySettings? settings = null)
    {
        Registry = new InProcessSchemaRegistry();
        Codec = new Codec(Registry);
        var builder = new StreamBuilder();
        GcpTopology.Build(builder, settings ?? Settings, Codec);
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

    /// <summary>Signs as the API and the topology do (the key of <see cref="Settings"/>).</summary>
    public static readonly RecordSigner Signer = Settings.Signer();

    public InProcessSchemaRegistry Registry { get; }
    public Codec Codec { get; }
    public Streamiz.Kafka.Net.Stream.Topology Topology { get; }
    public TopologyTestDriver Driver { get; }

    public string NextId(string prefix) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{++next}");

    public void Pipe<TValue>(Topic<string, TValue> topic, string key, TValue value, DateTime? timestamp = null)
        where TValue : class, ISpecificRecord =>
        PipeRaw(topic.Name, topic.KeyBytes(key), Codec.Encode(topic, value), timestamp);

    /// <summary>
    /// Pipes an API command as the API writes it: signed with <paramref name="signer"/> (the service's key by default; null: not
    /// signed), appended at its <c>issuedAt</c> unless <paramref name="appendedAt"/> says otherwise.
    /// </summary>
    public void PipeCommand(string recordKey, C.GiftCertificateCommand command, RecordSigner? signer = null, DateTime? appendedAt = null, bool sign = true)
    {
        var key = Encoding.UTF8.GetBytes(recordKey);
        var value = Codec.Encode(Topics.Commands, command);
        PipeRaw(Topics.Commands.Name, key, value, appendedAt ?? command.issuedAt, sign ? (signer ?? Signer).Signed(Topics.Commands.Name, key, value) : []);
    }

    /// <summary>Pipes raw bytes into an internal topic (what someone with write access to it could do); signed only when a signer is given.</summary>
    public void PipeInternal(string topic, byte[] key, byte[] value, RecordSigner? signer = null)
    {
        if (!inputs.TryGetValue(topic, out var input))
        {
            input = Driver.CreateInputTopic(topic, Bytes, Bytes);
            inputs[topic] = input;
        }

        input.PipeInput(key, value, T0, signer?.Signed(topic, key, value) ?? []);
    }

    public void PipeRaw(string topic, byte[]? key, byte[]? value, DateTime? timestamp = null, Headers? headers = null)
    {
        inputs[topic].PipeInput(key!, value!, timestamp ?? T0, headers ?? []);
        piped[topic] = NextOffset(topic) + 1;
    }

    /// <summary>The offset the next record piped into <paramref name="topic"/> gets (the driver numbers each input topic from 0).</summary>
    public long NextOffset(string topic) => piped.GetValueOrDefault(topic);

    /// <summary>Everything written to an output topic since the last read, decoded.</summary>
    public List<Output<TValue>> Read<TKey, TValue>(Topic<TKey, TValue> topic)
        where TValue : class, ISpecificRecord =>
        [.. ReadRaw(topic.Name).Select(r => r.Decode<TValue>(Codec, topic.Name))];

    /// <summary>Everything written to an output topic since the last read, as the raw key, value and headers.</summary>
    public List<RawOutput> ReadRaw(string topic)
    {
        List<RawOutput> fresh =
        [
            .. outputs[topic].ReadKeyValueList().Select(r => new RawOutput(
                r.Message.Key,
                r.Message.Value,
                r.Message.Headers?.Select(h => KeyValuePair.Create(h.Key, Encoding.UTF8.GetString(h.GetValueBytes() ?? []))).ToList() ?? [])),
        ];
        if (!history.TryGetValue(topic, out var all))
        {
            all = [];
            history[topic] = all;
        }

        all.AddRange(fresh);
        return fresh;
    }

    /// <summary>Everything ever written to an output topic during this test, in order (reads what is new first).</summary>
    public IReadOnlyList<RawOutput> AllRaw(string topic)
    {
        ReadRaw(topic);
        return history[topic];
    }

    /// <summary>Everything ever written to an output topic during this test, decoded, in order.</summary>
    public List<Output<TValue>> All<TKey, TValue>(Topic<TKey, TValue> topic)
        where TValue : class, ISpecificRecord =>
        [.. AllRaw(topic.Name).Select(r => r.Decode<TValue>(Codec, topic.Name))];

    /// <summary>Every entry of a state store (key order).</summary>
    public List<KeyValuePair<string, byte[]>> StoreEntries(string store) =>
        [.. Driver.GetKeyValueStore<string, byte[]>(store).All()];

    public List<Output<C.GiftCertificateEvent>> Events() => Read(Topics.Stream);

    public List<Output<C.CertificateState>> States() => Read(Topics.State);

    public List<Output<C.CommandReply>> Replies() => Read(Topics.Replies);

    public List<Output<C.DeadLetter>> DeadLetters() => Read(Topics.DeadLetter);

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

/// <summary>One output record as it was written: key and value bytes, headers in order.</summary>
internal sealed record RawOutput(byte[]? Key, byte[] Value, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public Output<T> Decode<T>(Codec codec, string topic)
        where T : class, ISpecificRecord =>
        new(Key is null ? null : Encoding.UTF8.GetString(Key), codec.Decode<T>(topic, Value), Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.Ordinal), Value);
}
