using System.Globalization;
using Confluent.Kafka;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// Sets a store changelog partition on the embedded broker back to its committed writes before it is restored
/// (<see cref="MockBrokerTransactions"/>). Where its writes committed last end is the consumer group's committed offset of the
/// changelog partition (the application id's group; set after every committed transaction, and by <c>gcp-replay rebuild</c>).
/// Records past it were written by a transaction that never committed (an instance killed in the middle of one): for every key
/// they touched, the value the key had in the committed part (or a tombstone) is appended, so a restore of the whole partition ends
/// in the committed state — now and at every later restore, after which other writes follow. The standalone broker marks every
/// changelog partition at 0 when it creates it (<c>gcp-broker</c>), so a first transaction that never committed is set back too;
/// a partition without a mark (a broker that did not) is restored as it is.
/// </summary>
internal sealed class ChangelogRepair(string bootstrapServers, string applicationId, ILogger logger) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private IConsumer<byte[], byte[]>? group;

    /// <summary>Whether <paramref name="topic"/> is a store changelog of the application, the only topics repaired.</summary>
    public bool Applies(string topic) => Topology.InternalTopics.IsChangelog(applicationId, topic);

    /// <summary>
    /// Repairs <paramref name="partition"/> if records past its committed end are on it; returns its watermarks after that (the
    /// appended records included).
    /// </summary>
    public WatermarkOffsets Repair(TopicPartition partition, WatermarkOffsets marks)
    {
        if (CommittedEnd(partition) is not { } committedEnd || committedEnd >= marks.High.Value)
        {
            return marks;
        }

        var touched = new List<byte[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Read(partition, committedEnd, marks.High.Value, record =>
        {
            if (seen.Add(Convert.ToBase64String(record.Message.Key)))
            {
                touched.Add(record.Message.Key);
            }
        });
        if (touched.Count == 0)
        {
            return marks; // only the marker of the committed transaction, which the embedded broker writes after its records
        }

        var committed = new Dictionary<string, Message<byte[], byte[]>>(StringComparer.Ordinal);
        Read(partition, marks.Low.Value, committedEnd, record =>
        {
            var key = Convert.ToBase64String(record.Message.Key);
            if (seen.Contains(key))
            {
                committed[key] = record.Message;
            }
        });
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = applicationId + "-changelog-repair",
            EnableIdempotence = true,
            LingerMs = 1,
        }).SetLogHandler((_, _) => { }).Build();
        Error? failure = null;
        foreach (var key in touched)
        {
            var message = committed.GetValueOrDefault(Convert.ToBase64String(key)) ?? new Message<byte[], byte[]> { Key = key, Value = null! };
            producer.Produce(partition, message, r => failure ??= r.Error.IsError ? r.Error : null);
        }

        if (producer.Flush(Timeout) > 0 || failure is not null)
        {
            throw new KafkaException(failure ?? new Error(ErrorCode.Local_TimedOut, "the repair records were not all delivered"));
        }

        var after = Group().QueryWatermarkOffsets(partition, Timeout);
        logger.LogWarning(
            "{Topic}[{Partition}]: offsets {From}–{To} were written by a transaction that never committed (the embedded broker shows them); {Keys} key(s) set back to their committed value before the restore",
            partition.Topic, partition.Partition.Value, committedEnd, marks.High.Value - 1, touched.Count);
        return after;
    }

    public void Dispose() => group?.Dispose();

    /// <summary>Where the partition's committed writes end, if that was recorded.</summary>
    private long? CommittedEnd(TopicPartition partition) =>
        Group().Committed([partition], Timeout).Single().Offset.Value is var offset and >= 0 ? offset : null;

    /// <summary>
    /// Hands over every record of <paramref name="partition"/> with a key from offset <paramref name="from"/> up to <paramref name="to"/>
    /// (excluded). A consumer of its own each time: right after an assignment a consumer's position is still the one it had
    /// before (until its first fetch), which would end a second read of the same partition before it began.
    /// </summary>
    private void Read(TopicPartition partition, long from, long to, Action<ConsumeResult<byte[], byte[]>> handle)
    {
        if (from >= to)
        {
            return;
        }

        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = applicationId + "-changelog-repair", // never joins nor commits: assigned partitions only
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 5,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(new TopicPartitionOffset(partition, from));
        var deadline = DateTime.UtcNow + Timeout;
        while (consumer.Position(partition).Value is var position && (position < 0 || position < to))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new KafkaException(new Error(ErrorCode.Local_TimedOut,
                    string.Create(CultureInfo.InvariantCulture, $"{partition.Topic}[{partition.Partition.Value}] could not be read from offset {from} to {to} to repair it")));
            }

            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message.Key: not null } record && record.Offset.Value < to)
            {
                handle(record);
            }
        }
    }

    private IConsumer<byte[], byte[]> Group() => group ??= new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
    {
        BootstrapServers = bootstrapServers,
        GroupId = applicationId, // the service's group, read only: never joined, nothing committed
        EnableAutoCommit = false,
    }).SetLogHandler((_, _) => { }).Build();
}
