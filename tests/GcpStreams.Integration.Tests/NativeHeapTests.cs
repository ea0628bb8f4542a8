using GcpStreams.Api.Hosting;

namespace GcpStreams.Integration.Tests;

/// <summary>The service caps glibc's malloc arenas itself (Program's first line), unless the operator's environment does.</summary>
public class NativeHeapTests
{
    [Test]
    public void Without_MALLOC_ARENA_MAX_the_service_caps_the_arenas_through_glibc_mallopt()
    {
        Assume.That(OperatingSystem.IsLinux(), "glibc's mallopt is Linux only");

        var note = NativeHeap.LimitArenas(fromEnvironment: null);

        Assert.That(note, Is.EqualTo($"malloc arenas: at most {NativeHeap.DefaultArenaMax} (MALLOC_ARENA_MAX to change)"),
            "libc resolves and accepts M_ARENA_MAX; otherwise the note says why it was left");
    }

    [TestCase("4")]
    [TestCase("1")]
    public void An_operators_MALLOC_ARENA_MAX_wins_and_is_reported(string value)
    {
        Assume.That(OperatingSystem.IsLinux(), "glibc's mallopt is Linux only");

        Assert.That(NativeHeap.LimitArenas(fromEnvironment: value), Is.EqualTo($"malloc arenas: MALLOC_ARENA_MAX={value} from the environment"));
    }
}
