using GcpStreams.Api.Hosting;

namespace GcpStreams.Integration.Tests;

/// <summary>When the stream supervisor replaces the stream, and when it gives up (<see cref="StreamSupervisor.Observe"/>).</summary>
public class StreamSupervisorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 4, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    [Test]
    public void A_stream_whose_poll_count_moves_is_left_alone()
    {
        var supervisor = new StreamSupervisor(TimeSpan.FromSeconds(10), 3);
        for (var s = 0; s <= 120; s++)
        {
            Assert.That(supervisor.Observe(s * 7, At(s)).Action, Is.EqualTo(SupervisorAction.None));
        }

        Assert.That(supervisor.Restarts, Is.Zero);
    }

    [Test]
    public void A_poll_count_that_does_not_move_for_the_stall_limit_restarts_the_stream_once()
    {
        var supervisor = new StreamSupervisor(TimeSpan.FromSeconds(10), 3);
        supervisor.Observe(5, At(0));
        Assert.That(supervisor.Observe(5, At(9.9)).Action, Is.EqualTo(SupervisorAction.None), "within the limit");

        var verdict = supervisor.Observe(5, At(10));

        Assert.That(verdict.Action, Is.EqualTo(SupervisorAction.Restart));
        Assert.That(verdict.Reason, Does.Contain("no progress for 10 s").And.Contain("Kafka:StreamStallSeconds is 10").And.Contain("restart 1 of at most 3"));
        Assert.That(supervisor.Observe(5, At(11)).Action, Is.EqualTo(SupervisorAction.None), "the new stream gets a whole window");
        Assert.That(supervisor.Restarts, Is.EqualTo(1));
    }

    [Test]
    public void A_stream_not_to_be_supervised_is_never_restarted_and_its_window_starts_again_when_it_is()
    {
        var supervisor = new StreamSupervisor(TimeSpan.FromSeconds(10), 3);
        supervisor.Observe(5, At(0));
        Assert.That(supervisor.Observe(null, At(30)).Action, Is.EqualTo(SupervisorAction.None), "ERROR or shut down: not supervised");
        Assert.That(supervisor.Observe(5, At(31)).Action, Is.EqualTo(SupervisorAction.None));
        Assert.That(supervisor.Observe(5, At(40)).Action, Is.EqualTo(SupervisorAction.None));
        Assert.That(supervisor.Observe(5, At(41)).Action, Is.EqualTo(SupervisorAction.Restart));
    }

    [Test]
    public void Restarts_in_a_row_beyond_the_limit_give_up_for_good()
    {
        var supervisor = new StreamSupervisor(TimeSpan.FromSeconds(10), 2);
        supervisor.Observe(0, At(0));
        Assert.That(supervisor.Observe(0, At(10)).Action, Is.EqualTo(SupervisorAction.Restart));
        supervisor.Observe(3, At(12)); // the new stream polls a little, then sticks before a whole window passed
        Assert.That(supervisor.Observe(3, At(22)).Action, Is.EqualTo(SupervisorAction.Restart));
        supervisor.Observe(0, At(23));

        var verdict = supervisor.Observe(0, At(33));

        Assert.That(verdict.Action, Is.EqualTo(SupervisorAction.GiveUp));
        Assert.That(verdict.Reason, Does.Contain("after 2 restart(s) in a row").And.Contain("Kafka:StreamStallRestarts is 2"));
        Assert.That(supervisor.GaveUp, Is.EqualTo(verdict.Reason));
        Assert.That(supervisor.Observe(100, At(40)).Action, Is.EqualTo(SupervisorAction.GiveUp), "for good: the instance needs a restart");
        Assert.That(supervisor.Restarts, Is.EqualTo(2));
    }

    [Test]
    public void A_restart_followed_by_a_whole_window_of_progress_clears_the_restarts_in_a_row()
    {
        var supervisor = new StreamSupervisor(TimeSpan.FromSeconds(10), 1);
        supervisor.Observe(0, At(0));
        Assert.That(supervisor.Observe(0, At(10)).Action, Is.EqualTo(SupervisorAction.Restart));
        for (var s = 11; s <= 25; s++)
        {
            supervisor.Observe(s, At(s)); // the new stream works for more than a window
        }

        Assert.That(supervisor.Observe(25, At(35)).Action, Is.EqualTo(SupervisorAction.Restart), "a new, separate stall: restarted again, not given up");
        Assert.That(supervisor.GaveUp, Is.Null);
        Assert.That(supervisor.Restarts, Is.EqualTo(2));
    }

    [TestCase(4, 3, "Kafka:StreamStallSeconds is 4; it must be between 5 and 3600.")]
    [TestCase(3_601, 3, "Kafka:StreamStallSeconds is 3601; it must be between 5 and 3600.")]
    [TestCase(60, 0, "Kafka:StreamStallRestarts is 0; it must be between 1 and 100.")]
    public void A_bad_supervisor_setting_is_refused_naming_it(int stallSeconds, int restarts, string message)
    {
        var result = new KafkaOptionsValidation().Validate(null, new KafkaOptions { StreamStallSeconds = stallSeconds, StreamStallRestarts = restarts });

        Assert.That(result.Failures, Is.EqualTo(new[] { message }));
        Assert.That(new KafkaOptionsValidation().Validate(null, new KafkaOptions()).Succeeded, Is.True, "the defaults (60 s, 3) are valid");
    }
}
