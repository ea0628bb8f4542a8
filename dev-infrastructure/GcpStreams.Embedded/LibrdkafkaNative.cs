using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace GcpStreams.Embedded;

/// <summary>
/// The librdkafka C functions this assembly calls. The library name <c>librdkafka</c> is resolved by
/// <see cref="LibrdkafkaLoader"/> to the very file Confluent.Kafka loaded; the static constructor
/// registers that resolver before the first call.
/// </summary>
/// <remarks>
/// Signatures follow <c>rdkafka.h</c> / <c>rdkafka_mock.h</c> of librdkafka 2.16 (the mock API is
/// experimental and not ABI-stable: keep librdkafka.redist pinned). The variadic mock functions
/// (<c>rd_kafka_mock_push_request_errors</c>, <c>..._partition_push_request_errors</c>,
/// <c>..._broker_push_request_error_rtts</c>) are deliberately not bound: .NET cannot call C varargs
/// portably; the <c>_array</c> variant is used instead.
/// </remarks>
internal static unsafe partial class LibrdkafkaNative
{
    internal const string LibraryName = "librdkafka";

    /// <summary>rd_kafka_type_t RD_KAFKA_PRODUCER.</summary>
    internal const int ProducerType = 0;

    /// <summary>rd_kafka_conf_res_t RD_KAFKA_CONF_OK.</summary>
    internal const int ConfOk = 0;

#pragma warning disable CA1810 // The resolver must be registered before any P/Invoke of this class runs.
    static LibrdkafkaNative() => LibrdkafkaLoader.RegisterResolver();
#pragma warning restore CA1810

    /// <summary>Forces the static constructor (resolver registration) without a native call.</summary>
    internal static void EnsureResolverRegistered()
    {
    }

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_version_str")]
    internal static partial nint VersionStr();

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_err2str")]
    internal static partial nint Err2Str(ErrorCode err);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_conf_new")]
    internal static partial nint ConfNew();

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_conf_destroy")]
    internal static partial void ConfDestroy(nint conf);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ConfSet(nint conf, string name, string value, byte* errstr, nuint errstrSize);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_new")]
    internal static partial nint New(int type, nint conf, byte* errstr, nuint errstrSize);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_destroy")]
    internal static partial void Destroy(nint rk);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_cluster_new")]
    internal static partial nint MockClusterNew(nint rk, int brokerCount);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    internal static partial void MockClusterDestroy(nint mcluster);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    internal static partial nint MockClusterBootstraps(nint mcluster);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    internal static partial void MockGroupInitialRebalanceDelayMs(nint mcluster, int delayMs);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_set_controller_id")]
    internal static partial void MockSetControllerId(nint mcluster, int controllerId);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ErrorCode MockTopicCreate(nint mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_topic_set_error", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void MockTopicSetError(nint mcluster, string topic, ErrorCode err);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_partition_delete_records", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ErrorCode MockPartitionDeleteRecords(nint mcluster, string topic, int partition, long beforeOffset);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_partition_set_leader", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ErrorCode MockPartitionSetLeader(nint mcluster, string topic, int partition, int brokerId);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_broker_set_down")]
    internal static partial ErrorCode MockBrokerSetDown(nint mcluster, int brokerId);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_broker_set_up")]
    internal static partial ErrorCode MockBrokerSetUp(nint mcluster, int brokerId);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_broker_set_host_port", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ErrorCode MockBrokerSetHostPort(nint mcluster, int brokerId, string host, int port);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_broker_set_rtt")]
    internal static partial ErrorCode MockBrokerSetRtt(nint mcluster, int brokerId, int rttMs);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_push_request_errors_array")]
    internal static partial void MockPushRequestErrorsArray(nint mcluster, short apiKey, nuint count, ErrorCode* errors);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_clear_request_errors")]
    internal static partial void MockClearRequestErrors(nint mcluster, short apiKey);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_start_request_tracking")]
    internal static partial void MockStartRequestTracking(nint mcluster);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_stop_request_tracking")]
    internal static partial void MockStopRequestTracking(nint mcluster);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_clear_requests")]
    internal static partial void MockClearRequests(nint mcluster);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_get_requests")]
    internal static partial nint* MockGetRequests(nint mcluster, out nuint count);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_request_id")]
    internal static partial int MockRequestId(nint request);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_request_api_key")]
    internal static partial short MockRequestApiKey(nint request);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_request_timestamp")]
    internal static partial long MockRequestTimestamp(nint request);

    [LibraryImport(LibraryName, EntryPoint = "rd_kafka_mock_request_destroy_array")]
    internal static partial void MockRequestDestroyArray(nint* requests, nuint count);

    /// <summary>librdkafka's text for an error code (<c>rd_kafka_err2str</c>).</summary>
    internal static string ErrorText(ErrorCode err) => Marshal.PtrToStringUTF8(Err2Str(err)) ?? err.ToString();
}
