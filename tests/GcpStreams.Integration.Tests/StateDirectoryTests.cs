using GcpStreams.Api.Hosting;

namespace GcpStreams.Integration.Tests;

/// <summary>When the service trusts its local state at start (cluster mode): only after a clean stop.</summary>
public class StateDirectoryTests
{
    private string root = null!;

    [SetUp]
    public void CreateRoot() => root = Directory.CreateTempSubdirectory("gcp-state-dir-").FullName;

    [TearDown]
    public void DeleteRoot() => Directory.Delete(root, recursive: true);

    [Test]
    public void A_state_dir_without_the_clean_stop_marker_is_wiped_before_start()
    {
        Directory.CreateDirectory(Path.Combine(root, "gcp-streams", "1_0", "rocksdb", "certificates"));
        Directory.CreateDirectory(Path.Combine(root, "other-app", "0_0"));

        var reason = StateDirectory.PrepareForStart(root, "gcp-streams");

        Assert.That(reason, Does.Contain("was not closed cleanly").And.Contain("restores from its changelog"));
        Assert.That(Directory.Exists(Path.Combine(root, "gcp-streams")), Is.False);
        Assert.That(Directory.Exists(Path.Combine(root, "other-app", "0_0")), Is.True, "another application's state is not touched");
    }

    [Test]
    public void A_state_dir_stopped_cleanly_is_kept_once_and_its_marker_consumed()
    {
        var store = Directory.CreateDirectory(Path.Combine(root, "gcp-streams", "1_0", "rocksdb", "certificates")).FullName;
        StateDirectory.MarkClosedCleanly(root, "gcp-streams");

        Assert.That(StateDirectory.PrepareForStart(root, "gcp-streams"), Is.Null);
        Assert.That(Directory.Exists(store), Is.True);
        Assert.That(File.Exists(StateDirectory.MarkerOf(root, "gcp-streams")), Is.False, "consumed: a crash of this run leaves none");

        Assert.That(StateDirectory.PrepareForStart(root, "gcp-streams"), Is.Not.Null, "the next start without a clean stop in between wipes");
        Assert.That(Directory.Exists(store), Is.False);
    }

    [Test]
    public void A_first_start_finds_nothing_to_wipe_and_a_stop_without_state_leaves_no_marker()
    {
        Assert.That(StateDirectory.PrepareForStart(Path.Combine(root, "not-created-yet"), "gcp-streams"), Is.Null, "a state dir that does not exist yet");
        Assert.That(() => StateDirectory.Wipe(Path.Combine(root, "not-created-yet"), "gcp-streams"), Throws.Nothing);
        Assert.That(StateDirectory.PrepareForStart(root, "gcp-streams"), Is.Null);
        StateDirectory.MarkClosedCleanly(root, "gcp-streams");
        Assert.That(File.Exists(StateDirectory.MarkerOf(root, "gcp-streams")), Is.False);
    }

    [Test]
    public void Embedded_mode_wipes_the_state_and_any_marker()
    {
        Directory.CreateDirectory(Path.Combine(root, "gcp-streams", "0_0"));
        StateDirectory.MarkClosedCleanly(root, "gcp-streams");

        StateDirectory.Wipe(root, "gcp-streams");

        Assert.That(Directory.Exists(Path.Combine(root, "gcp-streams")), Is.False);
        Assert.That(File.Exists(StateDirectory.MarkerOf(root, "gcp-streams")), Is.False);
    }

    [TestCase("..")]
    [TestCase("/tmp")]
    public void An_application_id_naming_a_directory_outside_the_state_dir_is_refused(string applicationId)
    {
        Assert.That(() => StateDirectory.PrepareForStart(root, applicationId), Throws.InvalidOperationException.With.Message.Contains("is not inside Kafka:StateDir"));
        Assert.That(() => StateDirectory.MarkerOf(root, applicationId), Throws.InvalidOperationException);
    }

    [Test]
    public void The_process_id_file_is_the_one_Streamiz_writes()
    {
        // Streamiz keeps the name in an internal constant; this fails when an upgrade renames or moves it
        var streamizStateDirectory = typeof(Streamiz.Kafka.Net.KafkaStream).Assembly.GetType("Streamiz.Kafka.Net.Processors.Internal.StateDirectory", throwOnError: true)!;
        var name = streamizStateDirectory.GetField("PROCESS_FILE_NAME", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)?.GetValue(null);

        Assert.That(name, Is.EqualTo(StateDirectory.ProcessFileName));
        Assert.That(StateDirectory.ProcessFile(root), Is.EqualTo(Path.Combine(root, "streamiz-process-metadata")), "beside the application's directory, in Kafka:StateDir");
    }

    [Test]
    public void The_wipe_after_a_crash_keeps_the_process_id_so_the_restarted_instance_fences_the_crashed_ones_transactions()
    {
        const string processFile = """{"processId":"6f2d9a44-1c55-4d7e-9a3b-2b8f0c7d1e99"}""";
        File.WriteAllText(StateDirectory.ProcessFile(root), processFile);
        Directory.CreateDirectory(Path.Combine(root, "gcp-streams", "1_0", "rocksdb", "certificates"));

        Assert.That(StateDirectory.PrepareForStart(root, "gcp-streams"), Does.Contain("was not closed cleanly"), "no marker: wiped");

        Assert.That(Directory.Exists(Path.Combine(root, "gcp-streams")), Is.False);
        Assert.That(File.ReadAllText(StateDirectory.ProcessFile(root)), Is.EqualTo(processFile), "the same process id, so the same transactional ids");

        Directory.CreateDirectory(Path.Combine(root, "gcp-streams", "0_0"));
        StateDirectory.Wipe(root, "gcp-streams");
        Assert.That(File.ReadAllText(StateDirectory.ProcessFile(root)), Is.EqualTo(processFile), "embedded and attached modes' wipe keeps it too");
    }

    [Test]
    public void A_supervisor_restart_gets_a_directory_of_its_own_with_the_process_id_which_the_next_start_wipes()
    {
        const string processFile = """{"processId":"0d7e3b1a-5f1c-4c2e-8a9b-3e4f5a6b7c8d"}""";
        File.WriteAllText(StateDirectory.ProcessFile(root), processFile);
        Directory.CreateDirectory(Path.Combine(root, "gcp-streams", "1_0"));

        var first = StateDirectory.PrepareRestart(root, "gcp-streams", 1);
        Directory.CreateDirectory(Path.Combine(first, "gcp-streams", "1_0", "rocksdb"));
        var second = StateDirectory.PrepareRestart(root, "gcp-streams", 2);

        Assert.That(new[] { first, second }, Is.EqualTo(new[] { Path.Combine(root, "gcp-streams.restarts", "1"), Path.Combine(root, "gcp-streams.restarts", "2") }));
        Assert.That(File.ReadAllText(StateDirectory.ProcessFile(second)), Is.EqualTo(processFile), "the new stream has the same transactional ids");
        Assert.That(Directory.Exists(Path.Combine(root, "gcp-streams", "1_0")), Is.True, "the abandoned stream's stores are left alone while it may hold them");
        Assert.That(() => StateDirectory.PrepareRestart(root, "gcp-streams", 0), Throws.InstanceOf<ArgumentOutOfRangeException>());

        StateDirectory.PrepareForStart(root, "gcp-streams");

        Assert.That(Directory.Exists(Path.Combine(root, "gcp-streams.restarts")), Is.False, "never closed cleanly, never kept");
        Assert.That(File.Exists(StateDirectory.ProcessFile(root)), Is.True);
    }
}
