using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// An application id must be a plain Kafka and directory name: anything else stops startup naming the setting, and the
/// embedded start-up wipe never deletes outside the state dir, whatever it is given.
/// </summary>
public class ApplicationIdTests
{
    [TestCase("..")]
    [TestCase(".")]
    [TestCase("a/b")]
    [TestCase("../etc")]
    [TestCase("app\n")]
    public void An_application_id_that_is_no_plain_name_is_refused(string applicationId)
    {
        var failures = new KafkaOptionsValidation().Validate(null, new KafkaOptions { ApplicationId = applicationId }).Failures;
        Assert.That(failures, Has.One.StartsWith($"Kafka:ApplicationId '{applicationId}' must be 1-100 letters, digits, '.', '_' or '-', and not '.' or '..'"));
    }

    [TestCase("gcp-streams")]
    [TestCase("gcp.streams_2")]
    [TestCase("...")]
    public void A_plain_application_id_is_fine(string applicationId) =>
        Assert.That(new KafkaOptionsValidation().Validate(null, new KafkaOptions { ApplicationId = applicationId }).Succeeded, Is.True);

    [Test]
    public async Task An_application_id_of_dot_dot_stops_startup_naming_the_setting()
    {
        var root = Directory.CreateTempSubdirectory("gcp-appid-").FullName;
        try
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            {
                await using var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
                {
                    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                    {
                        ["Kafka:ApplicationId"] = "..",
                        ["Kafka:StateDir"] = Path.Combine(root, "state"),
                        ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey,
                        ["Gcp:CvcKeys:1"] = ServiceInstance.CvcKey,
                    });
                    builder.Logging.SetMinimumLevel(LogLevel.Critical);
                });
                await app.StartAsync();
            });
            Assert.That(error!.Message, Does.Contain("Kafka:ApplicationId '..'"));
            Assert.That(Directory.Exists(root), Is.True, "nothing was wiped");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestCase("..")]
    [TestCase(".")]
    [TestCase("../sibling")]
    [TestCase("/tmp")]
    public void The_start_up_wipe_refuses_anything_outside_the_state_dir(string applicationId)
    {
        var root = Directory.CreateTempSubdirectory("gcp-wipe-").FullName;
        try
        {
            var stateDir = Path.Combine(root, "state");
            Directory.CreateDirectory(Path.Combine(stateDir, "gcp-streams"));
            Directory.CreateDirectory(Path.Combine(root, "sibling"));
            File.WriteAllText(Path.Combine(root, "keep.txt"), "not the state dir's");

            var error = Assert.Throws<InvalidOperationException>(() => StateDirectory.Wipe(stateDir, applicationId));

            Assert.That(error!.Message, Does.Contain("Kafka:ApplicationId").And.Contain("is not inside Kafka:StateDir"));
            Assert.That(File.Exists(Path.Combine(root, "keep.txt")), Is.True);
            Assert.That(Directory.Exists(Path.Combine(root, "sibling")), Is.True);
            Assert.That(Directory.Exists(Path.Combine(stateDir, "gcp-streams")), Is.True);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void The_start_up_wipe_deletes_the_applications_stores_only()
    {
        var root = Directory.CreateTempSubdirectory("gcp-wipe-").FullName;
        try
        {
            var stateDir = Path.Combine(root, "state") + Path.DirectorySeparatorChar;
            Directory.CreateDirectory(Path.Combine(stateDir, "gcp-streams", "0_0"));
            Directory.CreateDirectory(Path.Combine(stateDir, "other-app"));

            StateDirectory.Wipe(stateDir, "gcp-streams");
            StateDirectory.Wipe(stateDir, "never-started"); // nothing there: nothing to do

            Assert.That(Directory.Exists(Path.Combine(stateDir, "gcp-streams")), Is.False);
            Assert.That(Directory.Exists(Path.Combine(stateDir, "other-app")), Is.True);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
