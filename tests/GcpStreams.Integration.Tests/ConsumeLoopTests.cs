using Confluent.Kafka;
using GcpStreams.Client;
using GcpStreams.Embedded;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The reliability soak's finding of 1 December 2026: a blocking consume loop (the traffic's shop) started with <c>Task.Run</c> held
/// one of the thread pool's two threads for good, and the soak's latencies showed 0.5–1 s waits for the pool to add a thread. A
/// consume loop now starts only through <see cref="CommandChannel.StartConsuming"/>, which gives it a thread of its own.
/// </summary>
public class ConsumeLoopTests
{
    [Test]
    public async Task A_consume_loop_hands_records_over_on_a_thread_of_its_own_not_a_thread_pool_thread()
    {
        using var cluster = new EmbeddedKafkaCluster();
        const string topic = "it-consume-loop";
        cluster.CreateTopic(topic, partitions: 1);
        var consumer = CommandChannel.OpenAtEnd(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "it-consume-loop",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 5,
        }, topic);
        var handled = new TaskCompletionSource<(bool PoolThread, bool Background, string Value)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var loop = CommandChannel.StartConsuming(consumer, topic,
            r => handled.TrySetResult((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.IsBackground, System.Text.Encoding.UTF8.GetString(r.Message.Value))),
            stop.Token);

        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = [1], Value = "hello"u8.ToArray() });
        }

        var seen = await handled.Task.WaitAsync(Kafka.Timeout);
        await stop.CancelAsync();
        await loop.WaitAsync(Kafka.Timeout);

        Assert.That(seen.Value, Is.EqualTo("hello"));
        Assert.That(seen.PoolThread, Is.False, "the loop blocks in Consume: on a pool thread it would starve its callers' continuations");
        Assert.That(seen.Background, Is.True, "a loop never keeps the process alive");
        Assert.That(loop.IsCompletedSuccessfully, Is.True, "the loop ends once stopped");
    }
}
