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
}
