using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace GcpStreams.Embedded;

/// <summary>
/// An in-process Kafka cluster: librdkafka's mock cluster, which speaks the real Kafka wire protocol on
/// 127.0.0.1 (a port the OS picks), started through P/Invoke on the librdkafka that Confluent.Kafka loaded.
/// Any Kafka client (Confluent.Kafka, Streamiz, kcat) connects to <see cref="BootstrapServers"/>.
/// </summary>
/// <remarks>
/// <para>
/// How it is made: a bare producer handle (<c>rd_kafka_new</c>, type producer, no
/// <c>bootstrap.servers</c>) hosts the cluster, created with <c>rd_kafka_mock_cluster_new(rk, brokers)</c>;
/// the group initial rebalance delay is set to 0 (librdkafka's default is 3000 ms) and broker 1 is made the
/// controller (the mock's default controller id is 0, which names no broker, so admin requests would hang
/// until their timeout). The host handle never connects anywhere; the cluster runs its own thread.
/// </para>
/// <para>
/// Traps (measured on librdkafka 2.16, see STREAMIZ-NOTES.md):
/// </para>
/// <list type="bullet">
/// <item><description><b>No CreateTopics over the wire</b> (nor DeleteTopics, DeleteRecords, DescribeConfigs,
/// ListGroups, DescribeGroups: the mock implements Produce, Fetch, ListOffsets, Metadata, offsets, groups and
/// transactions only). AdminClient.CreateTopicsAsync fails at once with "Topic Admin API (KIP-4) not supported by
/// broker"; Streamiz's internal-topic creation fails too (seen retrying for ~10 minutes before ERROR). Pre-create every topic
/// with <see cref="CreateTopic"/> / <see cref="CreateTopics"/> before clients start, including Streamiz's
/// <c>{application.id}-{store}-changelog</c> and <c>{application.id}-{name}-repartition</c> topics with the
/// partition count of their source. A topic a client merely asks for in a Metadata request is auto-created
/// with 4 partitions — rarely what you want.</description></item>
/// <item><description><b>Bounded retention.</b> Each partition keeps at most <see cref="MaxPartitionBytes"/>
/// bytes or <see cref="MaxPartitionBatches"/> batches and silently drops the oldest beyond that (~24k records of
/// 200 B per partition). Keep backlogs below it.</description></item>
/// <item><description><b>read_committed is not enforced.</b> Consumers see records of open and aborted
/// transactions: prove exactly-once by content (no duplicate, no loss), not by visibility.</description></item>
/// <item><description><b>Offsets sent to a transaction are not stored.</b> TxnOffsetCommit answers "no error" and
/// keeps nothing, so an exactly-once consumer group's committed offsets never move (every rebalance or restart reads
/// from <c>auto.offset.reset</c> again); a plain OffsetCommit is stored. The service commits a second time outside the
/// transaction on this broker (<c>Kafka:CommitOffsetsOutsideTransactions</c>).</description></item>
/// <item><description><b>Fetch long-poll never ends early.</b> An empty fetch waits the whole
/// <c>fetch.wait.max.ms</c> (librdkafka default 500 ms) even when data arrives. Set it to
/// <see cref="RecommendedFetchWaitMaxMs"/> for every consumer of the embedded cluster.</description></item>
/// <item><description>Everything is lost when the cluster is disposed or the process exits; dispose clients
/// (and Streamiz streams) before the cluster.</description></item>
/// <item><description>The mock API is experimental and not ABI-stable: keep librdkafka.redist pinned.</description></item>
/// </list>
/// <para>All members are thread-safe; calls into the cluster are serialized. There is no finalizer: always
/// dispose the cluster (a <c>using</c>), or its listeners and thread live until the process exits.</para>
/// </remarks>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    /// <summary>The <c>fetch.wait.max.ms</c> to give every consumer of the embedded cluster (see remarks of the class).</summary>
    public const int RecommendedFetchWaitMaxMs = 5;

    /// <summary>The most bytes one mock partition retains (hard-coded in librdkafka); older batches are dropped.</summary>
    public const int MaxPartitionBytes = 5 * 1024 * 1024;

    /// <summary>The most batches one mock partition retains (hard-coded in librdkafka); older batches are dropped.</summary>
    public const int MaxPartitionBatches = 100_000;

    /// <summary>The broker id that means "every broker" for the broker fault-injection helpers.</summary>
    public const int AllBrokers = -1;

    /// <summary>The longest topic name Kafka accepts.</summary>
    public const int MaxTopicNameLength = 249;

    private const int ErrorBufferSize = 512;

    private readonly Lock _gate = new();
    private nint _handle;
    private nint _cluster;

    /// <summary>Starts a mock cluster with <paramref name="brokerCount"/> brokers (ids 1..brokerCount).</summary>
    /// <param name="brokerCount">How many brokers; each listens on its own loopback port.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="brokerCount"/> is below 1.</exception>
    /// <exception cref="DllNotFoundException">No librdkafka could be loaded (the message lists the paths tried).</exception>
    /// <exception cref="InvalidOperationException">librdkafka refused the handle or the cluster.</exception>
    public EmbeddedKafkaCluster(int brokerCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        BrokerCount = brokerCount;

        _handle = CreateHostHandle();
        _cluster = LibrdkafkaNative.MockClusterNew(_handle, brokerCount);
        if (_cluster == 0)
        {
            LibrdkafkaNative.Destroy(_handle);
            _handle = 0;
            throw new InvalidOperationException(
                $"rd_kafka_mock_cluster_new failed to start {brokerCount} mock broker(s) (could not bind a loopback listener?).");
        }

        LibrdkafkaNative.MockGroupInitialRebalanceDelayMs(_cluster, 0);
        // The mock reports controller id 0, a broker that does not exist (ids start at 1): admin requests would
        // wait for it until their timeout. With a real controller they fail at once with a clear message instead
        // ("Topic Admin API (KIP-4) not supported by broker").
        LibrdkafkaNative.MockSetControllerId(_cluster, 1);
        BootstrapServers = Marshal.PtrToStringUTF8(LibrdkafkaNative.MockClusterBootstraps(_cluster))
            ?? throw new InvalidOperationException("rd_kafka_mock_cluster_bootstraps returned nothing.");
    }

    /// <summary>The cluster's bootstrap servers, e.g. <c>127.0.0.1:41234</c> (comma-separated with several brokers).</summary>
    public string BootstrapServers { get; }

    /// <summary>How many brokers the cluster has; their ids are 1..BrokerCount.</summary>
    public int BrokerCount { get; }

    /// <summary>True once <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed
    {
        get
        {
            lock (_gate)
            {
                return _cluster == 0;
            }
        }
    }

    /// <summary>
    /// The path of the native librdkafka the cluster runs on: the file Confluent.Kafka mapped into the process
    /// (normally <c>runtimes/linux-x64/native/centos8-librdkafka.so</c> on Debian 12, whose
    /// <c>librdkafka.so</c> needs the absent libsasl2.so.3). Loads it on first access.
    /// </summary>
    /// <exception cref="DllNotFoundException">No librdkafka could be loaded (the message lists the paths tried).</exception>
    public static string NativeLibraryPath
    {
        get
        {
            LibrdkafkaNative.EnsureResolverRegistered();
            return LibrdkafkaLoader.Loaded.Path;
        }
    }

    /// <summary>The version of the native librdkafka the cluster runs on (<c>rd_kafka_version_str</c>).</summary>
    public static string LibrdkafkaVersion => Marshal.PtrToStringUTF8(LibrdkafkaNative.VersionStr()) ?? "unknown";

    /// <summary>
    /// Creates a topic on the cluster (<c>rd_kafka_mock_topic_create</c>). The mock has no CreateTopics API:
    /// create every topic a client will use before the client starts.
    /// </summary>
    /// <param name="name">A legal Kafka topic name: 1-249 characters of <c>[a-zA-Z0-9._-]</c>.</param>
    /// <param name="partitions">At least 1.</param>
    /// <param name="replicationFactor">1..<see cref="BrokerCount"/> (the mock would silently cap it).</param>
    /// <exception cref="ArgumentException">The name is not a legal topic name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Partitions or replication factor out of range.</exception>
    /// <exception cref="KafkaException">librdkafka refused, e.g. <see cref="ErrorCode.TopicAlreadyExists"/>; the message carries librdkafka's text.</exception>
    /// <exception cref="ObjectDisposedException">The cluster was disposed.</exception>
    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        ValidateTopicName(name);
        if (partitions < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(partitions), partitions, $"Topic '{name}' needs at least 1 partition; got {partitions}.");
        }

        if (replicationFactor < 1 || replicationFactor > BrokerCount)
        {
            throw new ArgumentOutOfRangeException(
                nameof(replicationFactor),
                replicationFactor,
                $"Topic '{name}': the replication factor must be between 1 and the broker count ({BrokerCount}); got {replicationFactor}.");
        }

        lock (_gate)
        {
            var err = LibrdkafkaNative.MockTopicCreate(LiveCluster(), name, partitions, replicationFactor);
            ThrowOnError(err, $"cannot create topic '{name}' ({partitions} partition(s), replication factor {replicationFactor})");
        }
    }

    /// <summary>Creates several topics, in order, with <see cref="CreateTopic"/>; stops at the first failure.</summary>
    /// <param name="topics">Name and partition count of each topic.</param>
    /// <param name="replicationFactor">Replication factor of every topic.</param>
    /// <exception cref="ArgumentNullException"><paramref name="topics"/> is null.</exception>
    public void CreateTopics(IEnumerable<(string Name, int Partitions)> topics, int replicationFactor = 1)
    {
        ArgumentNullException.ThrowIfNull(topics);
        foreach (var (name, partitions) in topics)
        {
            CreateTopic(name, partitions, replicationFactor);
        }
    }

    /// <summary>
    /// Takes a broker down (<c>rd_kafka_mock_broker_set_down</c>): its connections are closed and new ones are
    /// refused on the same port until <see cref="SetBrokerUp"/>. Partition leadership does not move.
    /// </summary>
    /// <param name="brokerId">1..<see cref="BrokerCount"/>, or <see cref="AllBrokers"/>.</param>
    /// <exception cref="KafkaException">Unknown broker (<see cref="ErrorCode.BrokerNotAvailable"/>).</exception>
    public void SetBrokerDown(int brokerId) =>
        Call(c => LibrdkafkaNative.MockBrokerSetDown(c, brokerId), $"cannot set broker {brokerId} down");

    /// <summary>Brings a broker back up (<c>rd_kafka_mock_broker_set_up</c>), listening on its old port again.</summary>
    /// <param name="brokerId">1..<see cref="BrokerCount"/>, or <see cref="AllBrokers"/>.</param>
    /// <exception cref="KafkaException">Unknown broker (<see cref="ErrorCode.BrokerNotAvailable"/>).</exception>
    public void SetBrokerUp(int brokerId) =>
        Call(c => LibrdkafkaNative.MockBrokerSetUp(c, brokerId), $"cannot set broker {brokerId} up");

    /// <summary>
    /// Changes the address a broker advertises in its metadata (<c>rd_kafka_mock_broker_set_host_port</c>), where clients
    /// connect after bootstrapping; the broker still listens on its own port. For a proxy in front of the broker (a fixed
    /// port): clients then send everything through the proxy.
    /// </summary>
    /// <param name="brokerId">1..<see cref="BrokerCount"/>.</param>
    /// <param name="host">The host clients connect to.</param>
    /// <param name="port">The port clients connect to, 1-65535.</param>
    /// <exception cref="ArgumentOutOfRangeException">The port is not 1-65535.</exception>
    /// <exception cref="KafkaException">Unknown broker.</exception>
    public void SetBrokerAdvertisedAddress(int brokerId, string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65_535);
        Call(c => LibrdkafkaNative.MockBrokerSetHostPort(c, brokerId, host, port), $"cannot set the advertised address of broker {brokerId}");
    }

    /// <summary>
    /// Delays every response of a broker by <paramref name="roundTripTime"/> (<c>rd_kafka_mock_broker_set_rtt</c>);
    /// <see cref="TimeSpan.Zero"/> removes the delay.
    /// </summary>
    /// <param name="brokerId">1..<see cref="BrokerCount"/>, or <see cref="AllBrokers"/>.</param>
    /// <param name="roundTripTime">The added delay, whole milliseconds.</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative or over <see cref="int.MaxValue"/> ms.</exception>
    /// <exception cref="KafkaException">Unknown broker (<see cref="ErrorCode.BrokerNotAvailable"/>).</exception>
    public void SetBrokerRoundTripTime(int brokerId, TimeSpan roundTripTime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(roundTripTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(roundTripTime.TotalMilliseconds, int.MaxValue, nameof(roundTripTime));
        var ms = (int)roundTripTime.TotalMilliseconds;
        Call(c => LibrdkafkaNative.MockBrokerSetRtt(c, brokerId, ms), $"cannot set the round-trip time of broker {brokerId}");
    }

    /// <summary>
    /// Makes the next <c>errors.Length</c> requests of type <paramref name="apiKey"/>, on any broker, fail with
    /// these errors, one each, in order (<c>rd_kafka_mock_push_request_errors_array</c>). Clients retry
    /// retriable errors on their own; a non-retriable one reaches the application.
    /// </summary>
    /// <param name="apiKey">The request type to fail.</param>
    /// <param name="errors">The errors, consumed in order.</param>
    /// <exception cref="ArgumentException">No error given.</exception>
    public unsafe void PushRequestErrors(KafkaApiKey apiKey, params ReadOnlySpan<ErrorCode> errors)
    {
        if (errors.IsEmpty)
        {
            throw new ArgumentException("Give at least one error to push.", nameof(errors));
        }

        lock (_gate)
        {
            fixed (ErrorCode* first = errors)
            {
                LibrdkafkaNative.MockPushRequestErrorsArray(LiveCluster(), (short)apiKey, (nuint)errors.Length, first);
            }
        }
    }

    /// <summary>Drops the errors still queued by <see cref="PushRequestErrors"/> for <paramref name="apiKey"/>.</summary>
    /// <param name="apiKey">The request type.</param>
    public void ClearRequestErrors(KafkaApiKey apiKey)
    {
        lock (_gate)
        {
            LibrdkafkaNative.MockClearRequestErrors(LiveCluster(), (short)apiKey);
        }
    }

    /// <summary>
    /// Makes Metadata responses report <paramref name="error"/> for the topic (<c>rd_kafka_mock_topic_set_error</c>);
    /// <see cref="ErrorCode.NoError"/> clears it.
    /// </summary>
    /// <param name="topic">The topic (need not exist).</param>
    /// <param name="error">The topic-level error to report.</param>
    public void SetTopicError(string topic, ErrorCode error)
    {
        ValidateTopicName(topic);
        lock (_gate)
        {
            LibrdkafkaNative.MockTopicSetError(LiveCluster(), topic, error);
        }
    }

    /// <summary>
    /// Deletes a partition's oldest records, moving its log-start offset (low watermark) forward — what retention
    /// does to a real log (<c>rd_kafka_mock_partition_delete_records</c>). Works on whole batches: only batches whose
    /// last offset is below <paramref name="beforeOffset"/> go, so the new log start can stay below it.
    /// </summary>
    /// <param name="topic">An existing topic.</param>
    /// <param name="partition">An existing partition.</param>
    /// <param name="beforeOffset">Delete records before this offset (at most the high watermark).</param>
    /// <exception cref="KafkaException">Unknown topic/partition, or offset beyond the end.</exception>
    public void DeleteRecords(string topic, int partition, long beforeOffset)
    {
        ValidateTopicName(topic);
        Call(
            c => LibrdkafkaNative.MockPartitionDeleteRecords(c, topic, partition, beforeOffset),
            $"cannot delete the records of {topic}[{partition}] before offset {beforeOffset}");
    }

    /// <summary>Moves a partition's leadership to another broker (<c>rd_kafka_mock_partition_set_leader</c>).</summary>
    /// <param name="topic">An existing topic.</param>
    /// <param name="partition">An existing partition.</param>
    /// <param name="brokerId">The new leader, 1..<see cref="BrokerCount"/>.</param>
    /// <exception cref="KafkaException">Unknown topic, partition or broker.</exception>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        ValidateTopicName(topic);
        Call(
            c => LibrdkafkaNative.MockPartitionSetLeader(c, topic, partition, brokerId),
            $"cannot make broker {brokerId} the leader of {topic}[{partition}]");
    }

    /// <summary>Starts recording the requests the brokers receive (clearing earlier records); see <see cref="GetTrackedRequests"/>.</summary>
    public void StartRequestTracking()
    {
        lock (_gate)
        {
            LibrdkafkaNative.MockStartRequestTracking(LiveCluster());
        }
    }

    /// <summary>Stops recording requests and forgets the records (librdkafka clears them): read <see cref="GetTrackedRequests"/> first.</summary>
    public void StopRequestTracking()
    {
        lock (_gate)
        {
            LibrdkafkaNative.MockStopRequestTracking(LiveCluster());
        }
    }

    /// <summary>Forgets the requests recorded so far.</summary>
    public void ClearTrackedRequests()
    {
        lock (_gate)
        {
            LibrdkafkaNative.MockClearRequests(LiveCluster());
        }
    }

    /// <summary>The requests recorded since <see cref="StartRequestTracking"/> (or the last clear), oldest first.</summary>
    /// <returns>A snapshot; empty when tracking never ran.</returns>
    public unsafe IReadOnlyList<MockRequest> GetTrackedRequests()
    {
        lock (_gate)
        {
            var requests = LibrdkafkaNative.MockGetRequests(LiveCluster(), out var count);
            if (requests == null)
            {
                return [];
            }

            try
            {
                var result = new MockRequest[(int)count];
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] = new MockRequest(
                        LibrdkafkaNative.MockRequestId(requests[i]),
                        (KafkaApiKey)LibrdkafkaNative.MockRequestApiKey(requests[i]),
                        LibrdkafkaNative.MockRequestTimestamp(requests[i]));
                }

                return result;
            }
            finally
            {
                LibrdkafkaNative.MockRequestDestroyArray(requests, count);
            }
        }
    }

    /// <summary>
    /// Destroys the mock cluster (all topics, groups and connections go) and then its host handle. Idempotent and
    /// thread-safe; dispose clients and streams first.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != 0)
            {
                LibrdkafkaNative.MockClusterDestroy(_cluster);
                _cluster = 0;
            }

            if (_handle != 0)
            {
                LibrdkafkaNative.Destroy(_handle);
                _handle = 0;
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"EmbeddedKafkaCluster({BootstrapServers}, {BrokerCount} broker(s))";

    private static unsafe nint CreateHostHandle()
    {
        var conf = LibrdkafkaNative.ConfNew();
        var error = stackalloc byte[ErrorBufferSize];
        try
        {
            // The host handle only carries the mock cluster: it has no bootstrap.servers and never connects.
            SetConf(conf, "client.id", "gcpstreams-embedded-mock-host", error);
            // Notices such as "No bootstrap.servers configured" are noise here; warnings and errors still print.
            SetConf(conf, "log_level", "4", error);
        }
        catch
        {
            LibrdkafkaNative.ConfDestroy(conf);
            throw;
        }

        // On success rd_kafka_new owns conf; on failure the caller still does.
        var handle = LibrdkafkaNative.New(LibrdkafkaNative.ProducerType, conf, error, ErrorBufferSize);
        if (handle == 0)
        {
            LibrdkafkaNative.ConfDestroy(conf);
            throw new InvalidOperationException($"rd_kafka_new failed: {Marshal.PtrToStringUTF8((nint)error)}");
        }

        return handle;
    }

    private static unsafe void SetConf(nint conf, string name, string value, byte* error)
    {
        if (LibrdkafkaNative.ConfSet(conf, name, value, error, ErrorBufferSize) != LibrdkafkaNative.ConfOk)
        {
            throw new InvalidOperationException(
                $"rd_kafka_conf_set({name}={value}) failed: {Marshal.PtrToStringUTF8((nint)error)}");
        }
    }

    private static void ValidateTopicName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > MaxTopicNameLength
            || name is "." or ".."
            || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-'))
        {
            throw new ArgumentException(
                $"'{name}' is not a legal Kafka topic name (1-{MaxTopicNameLength} characters of [a-zA-Z0-9._-], not '.' or '..').",
                nameof(name));
        }
    }

    private static void ThrowOnError(ErrorCode err, string what)
    {
        if (err != ErrorCode.NoError)
        {
            throw new KafkaException(new Error(err, $"Embedded Kafka cluster: {what}: {LibrdkafkaNative.ErrorText(err)} ({err})."));
        }
    }

    private void Call(Func<nint, ErrorCode> call, string what)
    {
        lock (_gate)
        {
            ThrowOnError(call(LiveCluster()), what);
        }
    }

    private nint LiveCluster()
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        return _cluster;
    }
}
