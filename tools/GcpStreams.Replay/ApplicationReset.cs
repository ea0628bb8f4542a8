using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using GcpStreams.Client;

namespace GcpStreams.Replay;

/// <summary>The service's consumer group still has live members: a reset must wait until every instance is stopped.</summary>
public sealed class LiveMembersException(string message) : Exception(message);

/// <summary>What a reset did.</summary>
/// <param name="InputOffsets">Where each input partition will be read from again.</param>
/// <param name="InputRecords">How many input records the service will process again (up to the ends when the reset ran).</param>
/// <param name="InputEnds">The ends of the inputs when the reset ran (the rebuild is done when the group has committed them).</param>
/// <param name="InternalOffsets">The internal (repartition) partitions, skipped to their ends.</param>
/// <param name="Tombstones">Tombstones written per changelog (every key with a value), which empty the stores they restore.</param>
/// <param name="StreamEnd">The sum of GiftCertificates.Stream's partition ends at the reset: the rebuild re-produces about as many events (the first copy's, from the log start).</param>
public sealed record ResetResult(
    IReadOnlyDictionary<TopicPartition, long> InputOffsets,
    long InputRecords,
    IReadOnlyDictionary<TopicPartition, long> InputEnds,
    IReadOnlyDictionary<TopicPartition, long> InternalOffsets,
    IReadOnlyDictionary<string, int> Tombstones,
    long StreamEnd);

/// <summary>
/// The stop-the-world reset of an application (<c>gcp-replay rebuild</c>), with requests every Kafka broker answers, librdkafka's
/// mock cluster included (it has no DeleteRecords, DeleteTopics, CreateTopics, DescribeGroups, OffsetDelete nor DeleteGroups on
/// the wire, docs/operations.md):
/// <list type="number">
/// <item>refuse while the group has live members: DescribeConsumerGroups where the broker has it; then, everywhere, the tool joins
///   the group itself with the service's subscription and must be given every partition (a live instance keeps some);</item>
/// <item>as that member, commit the group's offsets: inputs to their log start (or to a time), internal topics to their ends
///   (their records were made by the state being thrown away); then a tombstone for every key of every store changelog (a
///   restore then ends with empty stores), and the changelogs' committed ends (the group's offsets of them) to after the tombstones. Not one transaction: librdkafka's mock cluster accepts a transactional offset commit
///   but drops its offsets (its TxnOffsetCommit handler stores nothing);</item>
/// <item>leave the group; the caller wipes the local state dirs it was given.</item>
/// </list>
/// </summary>
public sealed class ApplicationReset(ReplayTopology topology, KafkaOffsets offsets, TextWriter output)
{
    private List<TopicPartition>? assigned;

    private string Group => topology.Settings.ApplicationId;

    public ResetResult Run(DateTimeOffset? toTime, CancellationToken cancellationToken)
    {
        var described = RefuseDescribedMembers();
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = offsets.BootstrapServers,
            GroupId = Group,
            ClientId = "gcp-replay-rebuild",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            AllowAutoCreateTopics = false,
            SessionTimeoutMs = 6_000,
            HeartbeatIntervalMs = 500,
            FetchWaitMaxMs = 5,
            PartitionAssignmentStrategy = new Streamiz.Kafka.Net.StreamConfig().PartitionAssignmentStrategy, // the service's: one protocol in the group
        }).SetLogHandler((_, _) => { }).SetPartitionsAssignedHandler((_, given) => { assigned = [.. given]; }).Build();
        var expected = topology.GroupTopics.SelectMany(offsets.Partitions).ToHashSet();
        if (!described && expected.Count == topology.GroupTopics.Count)
        {
            // Streamiz's range assignor gives a one-partition topic to the group's first member, by member id: a running instance
            // can get none, this tool all, and the check below cannot see it
            output.WriteLine("rebuild: WARNING: every topic of the group has one partition: joining the group cannot prove that no instance runs (the range assignor may give this tool every partition); make sure every instance is stopped");
        }

        var assignment = Join(consumer, cancellationToken);
        var missing = expected.Except(assignment).ToList();
        if (missing.Count > 0)
        {
            consumer.Close();
            var examples = string.Join(", ", missing.Take(3).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Topic}[{p.Partition.Value}]")));
            throw new LiveMembersException(string.Create(CultureInfo.InvariantCulture,
                $"the consumer group '{Group}' has live members: {missing.Count} of its {expected.Count} partitions went to another member (e.g. {examples}). Stop every instance of the service first (stop-the-world), then run rebuild again."));
        }

        var marks = offsets.Watermarks(topology.GroupTopics);
        var inputPartitions = marks.Keys.Where(p => topology.Inputs.Contains(p.Topic)).ToList();
        var inputOffsets = toTime is { } at
            ? offsets.OffsetsForTime(inputPartitions, at)
            : inputPartitions.ToDictionary(p => p, p => marks[p].Low.Value);
        var inputEnds = inputPartitions.ToDictionary(p => p, p => marks[p].High.Value);
        var internalOffsets = marks.Keys.Where(p => topology.InternalSources.Contains(p.Topic)).ToDictionary(p => p, p => marks[p].High.Value);

        // the offsets first, as a member of the group (a plain OffsetCommit: librdkafka's mock cluster drops the offsets of a
        // transactional commit); should the tombstones then fail, the service started anyway would find its inputs reset and its
        // stores whole (duplicates, refused as such), and rebuild can simply be run again
        consumer.Commit([.. inputOffsets.Concat(internalOffsets).Select(o => new TopicPartitionOffset(o.Key, o.Value))]);
        var streamEnd = offsets.Watermarks([Topics.Stream.Name]).Sum(m => m.Value.High.Value);
        var tombstones = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var producer = new ProducerBuilder<byte[], byte[]?>(new ProducerConfig
        {
            BootstrapServers = offsets.BootstrapServers,
            EnableIdempotence = true,
            LingerMs = 5,
        }).SetLogHandler((_, _) => { }).Build())
        {
            Error? failure = null;
            foreach (var changelog in topology.Changelogs)
            {
                var keys = LiveKeys(changelog);
                foreach (var (key, partition) in keys)
                {
                    producer.Produce(new TopicPartition(changelog, partition), new Message<byte[], byte[]?> { Key = key, Value = null }, r => failure ??= r.Error.IsError ? r.Error : null);
                }

                tombstones[changelog] = keys.Count;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebuild: {changelog}: {keys.Count} tombstone(s)"));
            }

            if (producer.Flush(offsets.Timeout) > 0 || failure is not null)
            {
                throw new InvalidOperationException($"the changelog tombstones were not all written ({failure?.Reason ?? "timeout"}): run rebuild again before starting the service");
            }
        }

        // the changelogs' committed ends move past the tombstones: the service attached to a standalone embedded broker sets back
        // whatever a changelog holds past its committed end before restoring it (records of a transaction that never committed)
        consumer.Commit([.. offsets.Watermarks(topology.Changelogs).Select(m => new TopicPartitionOffset(m.Key, m.Value.High))]);

        consumer.Close(); // leaves the group: the service's next start finds the new offsets
        var records = inputOffsets.Sum(o => Math.Max(0, inputEnds[o.Key] - o.Value));
        return new ResetResult(inputOffsets, records, inputEnds, internalOffsets, tombstones, streamEnd);
    }

    /// <summary>Where the broker describes groups (a real cluster), names the live members without joining (which would make them rebalance).</summary>
    private bool RefuseDescribedMembers()
    {
        try
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = offsets.BootstrapServers }).SetLogHandler((_, _) => { }).Build();
            var described = admin.DescribeConsumerGroupsAsync([Group], new DescribeConsumerGroupsOptions { RequestTimeout = offsets.Timeout }).GetAwaiter().GetResult();
            var members = described.ConsumerGroupDescriptions.SelectMany(d => d.Members).ToList();
            if (members.Count > 0)
            {
                var names = string.Join(", ", members.Select(m => $"{m.ClientId}@{m.Host}"));
                throw new LiveMembersException(string.Create(CultureInfo.InvariantCulture,
                    $"the consumer group '{Group}' has {members.Count} live member(s): {names}. Stop every instance of the service first (stop-the-world; a killed instance stays a member until its session times out), then run rebuild again."));
            }

            return true;
        }
        catch (KafkaException e)
        {
            // librdkafka's mock cluster has no DescribeGroups: joining the group below finds live members there
            output.WriteLine($"rebuild: the broker does not describe consumer groups ({e.Error.Reason}); joining the group to check it has no live member");
            return false;
        }
    }

    /// <summary>Joins the group and returns what it was given once the rebalance settled.</summary>
    private HashSet<TopicPartition> Join(IConsumer<byte[], byte[]> consumer, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + offsets.Timeout;
        consumer.Subscribe(topology.GroupTopics);
        while (assigned is null) // an assignment, even an empty one (another member took every partition)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (DateTime.UtcNow > deadline)
            {
                throw new LiveMembersException($"the consumer group '{Group}' gave this tool no partition within {offsets.Timeout.TotalSeconds:0} s: another member holds them all? Stop every instance of the service first.");
            }

            consumer.Consume(TimeSpan.FromMilliseconds(100)); // records read here are not committed: the transaction commits explicit offsets
        }

        return [.. assigned];
    }

    /// <summary>Every key of a changelog whose latest record has a value, with its partition.</summary>
    private List<(byte[] Key, int Partition)> LiveKeys(string changelog)
    {
        var latest = new Dictionary<(string, int), (byte[] Key, bool HasValue)>();
        foreach (var record in new Ops.TopicReader(offsets.BootstrapServers, offsets.Timeout).Read(changelog))
        {
            if (record.Message.Key is not { } key)
            {
                continue;
            }

            latest[(Convert.ToBase64String(key), record.Partition.Value)] = (key, record.Message.Value is not null);
        }

        return [.. latest.Where(l => l.Value.HasValue).Select(l => (l.Value.Key, l.Key.Item2))];
    }
}
