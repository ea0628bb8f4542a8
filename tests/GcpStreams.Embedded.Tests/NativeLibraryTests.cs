using Confluent.Kafka;

namespace GcpStreams.Embedded.Tests;

/// <summary>The embedded cluster runs on the very librdkafka file Confluent.Kafka loaded.</summary>
public class NativeLibraryTests
{
    [Test]
    public void TheClusterAndConfluentKafka_ShareOneLibrdkafka()
    {
        using var cluster = new EmbeddedKafkaCluster();
        using var producer = Clients.Producer(cluster);

        var mapped = LibrdkafkaLoader.MappedLibrdkafkaFiles();

        Assert.That(File.Exists(EmbeddedKafkaCluster.NativeLibraryPath), Is.True, EmbeddedKafkaCluster.NativeLibraryPath);
        Assert.That(mapped, Is.EqualTo(new[] { EmbeddedKafkaCluster.NativeLibraryPath }), "exactly one librdkafka in the process");
        Assert.That(EmbeddedKafkaCluster.LibrdkafkaVersion, Is.EqualTo(Library.VersionString));
        Assert.That(LibrdkafkaLoader.Loaded.From, Is.EqualTo(LoadedFrom.ConfluentKafka));
    }

    [Test]
    public void OnDebian12_TheBuildWithoutSasl_IsTheOneLoaded()
    {
        if (File.Exists("/usr/lib/x86_64-linux-gnu/libsasl2.so.3") || File.Exists("/usr/lib64/libsasl2.so.3"))
        {
            Assert.Ignore("libsasl2.so.3 is installed here, so librdkafka.so itself may load.");
        }

        Assert.That(Path.GetFileName(EmbeddedKafkaCluster.NativeLibraryPath), Is.EqualTo("centos8-librdkafka.so"));
        Assert.That(EmbeddedKafkaCluster.NativeLibraryPath, Does.StartWith(AppContext.BaseDirectory));
    }

    [Test]
    public void CandidatePaths_FollowConfluentKafkasOrder_RidFolderThenAppFolder()
    {
        var candidates = LibrdkafkaLoader.CandidatePaths("/app");

        var rid = "linux-" + System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        Assert.That(candidates, Is.EqualTo(new[]
        {
            $"/app/runtimes/{rid}/native/librdkafka.so",
            "/app/librdkafka.so",
            $"/app/runtimes/{rid}/native/centos8-librdkafka.so",
            "/app/centos8-librdkafka.so",
        }));
    }

    [TestCase("7f0000000000-7f0000001000 r--p 00000000 08:01 123    /opt/app dir/centos8-librdkafka.so", "/opt/app dir/centos8-librdkafka.so")]
    [TestCase("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ", null)]
    [TestCase("7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]", null)]
    [TestCase("7f0000000000-7f0000001000 r--p 00000000 08:01 123    /tmp/librdkafka.so (deleted)", null)]
    public void PathOfMapping_ReadsTheFileOfAMapsLine(string line, string? expected)
    {
        Assert.That(LibrdkafkaLoader.PathOfMapping(line), Is.EqualTo(expected));
    }

    [Test]
    public void MappedLibrdkafkaFiles_ListsEachLibrdkafkaOnce()
    {
        var maps = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(maps,
            [
                "7f01-7f02 r--p 00000000 08:01 1 /app/runtimes/linux-x64/native/centos8-librdkafka.so",
                "7f02-7f03 r-xp 00001000 08:01 1 /app/runtimes/linux-x64/native/centos8-librdkafka.so",
                "7f03-7f04 r--p 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libc.so.6",
                "7f04-7f05 rw-p 00000000 00:00 0",
            ]);

            Assert.That(LibrdkafkaLoader.MappedLibrdkafkaFiles(maps),
                Is.EqualTo(new[] { "/app/runtimes/linux-x64/native/centos8-librdkafka.so" }));
            Assert.That(LibrdkafkaLoader.MappedLibrdkafkaFiles(maps + ".absent"), Is.Empty);
        }
        finally
        {
            File.Delete(maps);
        }
    }
}
