using System.Diagnostics;
using Confluent.Kafka;

namespace GcpStreams.Embedded.Tests;

/// <summary>Each fault-injection helper of <see cref="EmbeddedKafkaCluster"/> has a visible effect on real clients.</summary>
public class FaultInjectionTests
{
    [Test]
    public async Task BrokerDown_FailsDelivery_AndBrokerUp_RestoresIt()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("down-up", 1);
        using var producer = Clients.Producer(cluster, c =>
        {
            c.MessageTimeoutMs = 1500;
            c.ReconnectBackoffMs = 10;
            c.ReconnectBackoffMaxMs = 100;
        });
        var before = await producer.ProduceAsync("down-up", new Message<string, string> { Key = "k", Value = "before" });
        Assert.That(before.Status, Is.EqualTo(PersistenceStatus.Persisted));

        cluster.SetBrokerDown(1);
        var whileDown = await Assert.ThrowsAsync<ProduceException<string, string>>(
            () => producer.ProduceAsync("down-up", new Message<string, string> { Key = "k", Value = "while-down" }));
        Assert.That(whileDown!.Error.Code, Is.EqualTo(ErrorCode.Local_MsgTimedOut));

        cluster.SetBrokerUp(1);
        var after = await ProduceUntilPersisted(producer, "down-up", "after");
        Assert.That(after.Status, Is.EqualTo(PersistenceStatus.Persisted), "the same producer reconnects to the same port");

        using var consumer = Clients.Consumer(cluster);
        var partition0 = new TopicPartition("down-up", 0);
        var end = consumer.QueryWatermarkOffsets(partition0, Clients.Deadline).High.Value;
        consumer.Assign(new TopicPartitionOffset(partition0, Offset.Beginning));
        var values = Clients.ConsumeAtLeast(consumer, (int)end).Select(r => r.Message.Value).ToList();
        Assert.That(values, Has.Count.EqualTo(end));
        Assert.That(values[0], Is.EqualTo("before"));
        Assert.That(values, Does.Contain("after").And.Not.Contain("while-down"), "nothing was written while the broker was down");
    }

    /// <summary>Retries a produce that times out (short message timeout) until it is persisted or the deadline passes.</summary>
    private static async Task<DeliveryResult<string, string>> ProduceUntilPersisted(IProducer<string, string> producer, string topic, string value)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = value });
            }
            catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_MsgTimedOut && clock.Elapsed < Clients.Deadline)
            {
                // reconnecting took longer than one message timeout: try again
            }
        }
    }

    [Test]
    public void BrokerHelpers_OnAnUnknownBroker_FailWithLibrdkafkasError()
    {
        using var cluster = new EmbeddedKafkaCluster();

        var e = Assert.Throws<KafkaException>(() => cluster.SetBrokerDown(7));

        Assert.That(e!.Error.Code, Is.EqualTo(ErrorCode.BrokerNotAvailable));
        Assert.That(e.Message, Does.Contain("cannot set broker 7 down").And.Contain("Broker not available"));
        Assert.That(Assert.Throws<KafkaException>(() => cluster.SetBrokerUp(7))!.Error.Code, Is.EqualTo(ErrorCode.BrokerNotAvailable));
        Assert.That(Assert.Throws<KafkaException>(() => cluster.SetBrokerRoundTripTime(7, TimeSpan.FromMilliseconds(1)))!.Error.Code,
            Is.EqualTo(ErrorCode.BrokerNotAvailable));
    }

    [Test]
    public void AllBrokers_CanBeTakenDownAndUpTogether()
    {
        using var cluster = new EmbeddedKafkaCluster(brokerCount: 3);
        cluster.CreateTopic("all", 3, replicationFactor: 3);

        cluster.SetBrokerDown(EmbeddedKafkaCluster.AllBrokers);
        using (var admin = Clients.Admin(cluster))
        {
            Assert.Throws<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(1)), "no broker answers");
        }

        cluster.SetBrokerUp(EmbeddedKafkaCluster.AllBrokers);
        using (var admin = Clients.Admin(cluster))
        {
            Assert.That(admin.GetMetadata(Clients.Deadline).Brokers, Has.Count.EqualTo(3));
        }
    }

    [Test]
    public async Task PushedProduceError_FailsTheNextProduce_ThenTheClusterAcceptsAgain()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("pushed", 1);
        using var producer = Clients.Producer(cluster);
        await producer.ProduceAsync("pushed", new Message<string, string> { Key = "k", Value = "warm-up" });

        // A per-batch, non-retriable error. (TopicAuthorizationFailed would also do, but librdkafka then marks
        // the whole topic failed until its next metadata refresh, so the following produce fails too.)
        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.InvalidRecord);

        var failed = await Assert.ThrowsAsync<ProduceException<string, string>>(
            () => producer.ProduceAsync("pushed", new Message<string, string> { Key = "k", Value = "refused" }));
        Assert.That(failed!.Error.Code, Is.EqualTo(ErrorCode.InvalidRecord));
        var next = await producer.ProduceAsync("pushed", new Message<string, string> { Key = "k", Value = "accepted" });
        Assert.That(next.Status, Is.EqualTo(PersistenceStatus.Persisted));
    }

    [Test]
    public async Task PushedRetriableErrors_AreRetriedByTheClient()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("retried", 1);
        using var producer = Clients.Producer(cluster, c => c.RetryBackoffMs = 1);
        await producer.ProduceAsync("retried", new Message<string, string> { Key = "k", Value = "warm-up" });
        cluster.StartRequestTracking();

        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.NotEnoughReplicas);
        var delivered = await producer.ProduceAsync("retried", new Message<string, string> { Key = "k", Value = "eventually" });

        Assert.That(delivered.Status, Is.EqualTo(PersistenceStatus.Persisted));
        var produceRequests = cluster.GetTrackedRequests().Count(r => r.ApiKey == KafkaApiKey.Produce);
        Assert.That(produceRequests, Is.EqualTo(3), "two refused attempts, then the accepted one");
    }

    [Test]
    public async Task ClearRequestErrors_DropsQueuedErrors()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("cleared", 1);
        using var producer = Clients.Producer(cluster);
        await producer.ProduceAsync("cleared", new Message<string, string> { Key = "k", Value = "warm-up" });

        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.TopicAuthorizationFailed, ErrorCode.TopicAuthorizationFailed);
        cluster.ClearRequestErrors(KafkaApiKey.Produce);

        var delivered = await producer.ProduceAsync("cleared", new Message<string, string> { Key = "k", Value = "fine" });
        Assert.That(delivered.Status, Is.EqualTo(PersistenceStatus.Persisted));
    }

    [Test]
    public void PushRequestErrors_WithoutErrors_IsRejected()
    {
        using var cluster = new EmbeddedKafkaCluster();

        Assert.Throws<ArgumentException>(() => cluster.PushRequestErrors(KafkaApiKey.Fetch));
    }

    [Test]
    public void TopicError_IsReportedInMetadata_UntilCleared()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("flaky", 2);
        using var admin = Clients.Admin(cluster);

        cluster.SetTopicError("flaky", ErrorCode.LeaderNotAvailable);
        Assert.That(admin.GetMetadata("flaky", Clients.Deadline).Topics.Single().Error.Code, Is.EqualTo(ErrorCode.LeaderNotAvailable));

        cluster.SetTopicError("flaky", ErrorCode.NoError);
        Assert.That(admin.GetMetadata("flaky", Clients.Deadline).Topics.Single().Error.Code, Is.EqualTo(ErrorCode.NoError));
    }

    [Test]
    public async Task DeleteRecords_MovesTheLogStartOffset_LikeRetention()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("changelog", 1);
        var partition0 = new TopicPartition("changelog", 0);
        using (var producer = Clients.Producer(cluster))
        {
            await Clients.ProduceEach(producer, partition0, Enumerable.Range(0, 10).Select(i => $"r{i}"));
        }

        cluster.DeleteRecords("changelog", 0, beforeOffset: 5);

        using var consumer = Clients.Consumer(cluster);
        var watermarks = consumer.QueryWatermarkOffsets(partition0, Clients.Deadline);
        Assert.That(watermarks.Low.Value, Is.EqualTo(5));
        Assert.That(watermarks.High.Value, Is.EqualTo(10));
        consumer.Assign(new TopicPartitionOffset(partition0, Offset.Beginning));
        var remaining = Clients.ConsumeAtLeast(consumer, 5);
        Assert.That(remaining.Select(r => r.Message.Value), Is.EqualTo(new[] { "r5", "r6", "r7", "r8", "r9" }));
    }

    [Test]
    public void DeleteRecords_BeyondTheEnd_OrOnAnUnknownTopic_Fails()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("short", 1);

        var beyond = Assert.Throws<KafkaException>(() => cluster.DeleteRecords("short", 0, 1));
        Assert.That(beyond!.Error.Code, Is.EqualTo(ErrorCode.OffsetOutOfRange));
        var unknown = Assert.Throws<KafkaException>(() => cluster.DeleteRecords("nope", 0, 0));
        Assert.That(unknown!.Error.Code, Is.EqualTo(ErrorCode.UnknownTopicOrPart));
    }

    [Test]
    public void SetPartitionLeader_MovesLeadership_AsMetadataShows()
    {
        using var cluster = new EmbeddedKafkaCluster(brokerCount: 3);
        cluster.CreateTopic("led", 1, replicationFactor: 3);
        using var admin = Clients.Admin(cluster);

        cluster.SetPartitionLeader("led", 0, 2);
        Assert.That(admin.GetMetadata("led", Clients.Deadline).Topics.Single().Partitions.Single().Leader, Is.EqualTo(2));

        cluster.SetPartitionLeader("led", 0, 3);
        Assert.That(admin.GetMetadata("led", Clients.Deadline).Topics.Single().Partitions.Single().Leader, Is.EqualTo(3));

        var unknown = Assert.Throws<KafkaException>(() => cluster.SetPartitionLeader("led", 5, 1));
        Assert.That(unknown!.Error.Code, Is.EqualTo(ErrorCode.UnknownTopicOrPart));
    }

    [Test]
    public void BrokerRoundTripTime_DelaysResponses_UntilReset()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("slow", 1);
        using var admin = Clients.Admin(cluster);
        admin.GetMetadata(Clients.Deadline); // connect first: the delay applies to responses, not to connecting

        cluster.SetBrokerRoundTripTime(1, TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        admin.GetMetadata("slow", Clients.Deadline);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)));

        cluster.SetBrokerRoundTripTime(1, TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.SetBrokerRoundTripTime(1, TimeSpan.FromMilliseconds(-1)));
    }

    [Test]
    public async Task RequestTracking_RecordsWhatTheBrokersReceived()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("tracked", 1);
        Assert.That(cluster.GetTrackedRequests(), Is.Empty, "nothing before tracking starts");

        cluster.StartRequestTracking();
        using (var producer = Clients.Producer(cluster))
        {
            await producer.ProduceAsync("tracked", new Message<string, string> { Key = "k", Value = "v" });
        }

        var requests = cluster.GetTrackedRequests();
        Assert.That(requests.Select(r => r.ApiKey), Does.Contain(KafkaApiKey.ApiVersions).And.Contain(KafkaApiKey.Metadata).And.Contain(KafkaApiKey.Produce));
        Assert.That(requests.All(r => r.BrokerId == 1), Is.True);
        Assert.That(requests.Select(r => r.MonotonicMicroseconds), Is.Ordered);

        cluster.ClearTrackedRequests();
        Assert.That(cluster.GetTrackedRequests(), Is.Empty, "cleared");
    }

    [Test]
    public async Task StopRequestTracking_StopsRecording_AndForgetsTheRecords()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("untracked", 1);
        using var producer = Clients.Producer(cluster);
        cluster.StartRequestTracking();
        await producer.ProduceAsync("untracked", new Message<string, string> { Key = "k", Value = "tracked" });
        Assert.That(cluster.GetTrackedRequests(), Is.Not.Empty);

        cluster.StopRequestTracking();
        await producer.ProduceAsync("untracked", new Message<string, string> { Key = "k", Value = "not tracked" });

        Assert.That(cluster.GetTrackedRequests(), Is.Empty);
    }
}
