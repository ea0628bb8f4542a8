namespace GcpStreams.Api.Hosting;

/// <summary>
/// The application's local state (<c>{Kafka:StateDir}/{Kafka:ApplicationId}</c>: Streamiz's task directories, RocksDB stores
/// and checkpoint files) and whether it may be trusted at start.
/// </summary>
/// <remarks>
/// Under exactly-once, Streamiz writes a task's checkpoint only when the task closes, and never wipes a store: after a crash
/// (kill -9, power loss, a close that timed out) it would trust the checkpoint of the last clean close and restore on top of a
/// store that may hold writes of transactions that were aborted — a payment replayed after the crash would then find its
/// own aborted effects and decide nothing. So a clean stop leaves a marker beside the directory (<see cref="MarkClosedCleanly"/>),
/// every start consumes it (<see cref="PrepareForStart"/>), and a directory found without one is wiped: the stores are
/// restored from their changelogs, the durable copy (what Kafka Streams does under exactly-once too).
/// The stores also skip RocksDB's flush at every commit (<c>LedgerStores</c>), which only this rule makes safe.
/// </remarks>
public static class StateDirectory
{
    /// <summary>The marker a clean stop leaves: <c>{Kafka:StateDir}/{Kafka:ApplicationId}.closed-cleanly</c>.</summary>
    public static string MarkerOf(string stateDir, string applicationId) => ApplicationDir(stateDir, applicationId) + MarkerSuffix;

    private const string MarkerSuffix = ".closed-cleanly";

    /// <summary>
    /// Before the stream starts: consumes the clean-stop marker; without one, wipes the application's state (if any) and
    /// returns why, for the log. Null when the state is kept (or there is none).
    /// </summary>
    public static string? PrepareForStart(string stateDir, string applicationId)
    {
        var dir = ApplicationDir(stateDir, applicationId);
        var marker = dir + MarkerSuffix;
        var closedCleanly = File.Exists(marker);
        if (closedCleanly)
        {
            File.Delete(marker); // from here until the next clean stop, a crash leaves no marker
        }

        if (closedCleanly || !Directory.Exists(dir))
        {
            return null;
        }

        Directory.Delete(dir, recursive: true);
        return $"the state directory '{dir}' was not closed cleanly (no '{Path.GetFileName(marker)}' beside it): wiped, every store restores from its changelog";
    }

    /// <summary>After the stream closed within its timeout (its stores flushed and checkpointed): leaves the marker.</summary>
    public static void MarkClosedCleanly(string stateDir, string applicationId)
    {
        var dir = ApplicationDir(stateDir, applicationId);
        if (Directory.Exists(dir))
        {
            File.WriteAllText(dir + MarkerSuffix, $"closed cleanly at {DateTimeOffset.UtcNow:O}\n");
        }
    }

    /// <summary>
    /// Embedded and attached modes: the broker may be a new, empty one, so old checkpoints would point past its changelogs' ends
    /// (STREAMIZ-NOTES); the stores are restored from its changelogs instead.
    /// </summary>
    public static void Wipe(string stateDir, string applicationId)
    {
        var dir = ApplicationDir(stateDir, applicationId);
        var marker = dir + MarkerSuffix;
        if (File.Exists(marker))
        {
            File.Delete(marker);
        }

        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The application's directory, resolved to its full path; one not strictly inside the state dir (an application id of
    /// <c>..</c>, <c>.</c> or a rooted path) is refused, whatever validation let through, so a wipe deletes nothing outside it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The application's directory is not inside the state dir.</exception>
    private static string ApplicationDir(string stateDir, string applicationId)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(stateDir));
        var dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(root, applicationId)));
        if (!dir.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"Kafka:ApplicationId '{applicationId}' names '{dir}', which is not inside Kafka:StateDir '{root}': the start-up wipe deletes nothing outside it.");
        }

        return dir;
    }
}
