using System.Runtime.InteropServices;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// Caps glibc's malloc arenas before the service starts its threads. glibc gives each thread that allocates its own arena, up to
/// eight per core; the service's threads (librdkafka's per client, RocksDB's, the thread pool's) then leave freed native memory
/// scattered over many arenas, where it is not given back: a 30-minute soak grew the resident set by 39 MiB at a constant rate
/// with the default and stayed flat (+13 MiB, the caches filling) with two arenas (docs/reliability.md). The usual remedy is the
/// environment variable <c>MALLOC_ARENA_MAX=2</c>; the service applies it itself (<c>mallopt</c>) so that every way of starting
/// it gets it, and an operator's own <c>MALLOC_ARENA_MAX</c> wins. Only the first thing in <c>Main</c> is early enough: glibc
/// fixes the limit once eight arenas exist.
/// </summary>
public static class NativeHeap
{
    /// <summary>The environment variable glibc reads at start, and the service's default for it.</summary>
    public const string ArenaMaxVariable = "MALLOC_ARENA_MAX";

    /// <summary>Two arenas: the main one and one for every other thread, as MALLOC_ARENA_MAX=2 gives.</summary>
    public const int DefaultArenaMax = 2;

    private const int MArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h

    /// <summary>Caps the arenas unless the environment already does; returns what it did, for the startup log.</summary>
    public static string LimitArenas() => LimitArenas(Environment.GetEnvironmentVariable(ArenaMaxVariable));

    /// <param name="fromEnvironment">The value of <see cref="ArenaMaxVariable"/> the process started with (glibc has applied it).</param>
    internal static string LimitArenas(string? fromEnvironment)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "malloc arenas: left as they are (not Linux)";
        }

        if (fromEnvironment is { Length: > 0 } given)
        {
            return $"malloc arenas: {ArenaMaxVariable}={given} from the environment";
        }

        try
        {
            return MallOpt(MArenaMax, DefaultArenaMax) == 1
                ? $"malloc arenas: at most {DefaultArenaMax} ({ArenaMaxVariable} to change)"
                : "malloc arenas: left as they are (mallopt refused M_ARENA_MAX)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "malloc arenas: left as they are (no glibc mallopt)";
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")] // two ints: no marshalling, so no LibraryImport (it needs unsafe code)
    private static extern int MallOpt(int param, int value);
}
