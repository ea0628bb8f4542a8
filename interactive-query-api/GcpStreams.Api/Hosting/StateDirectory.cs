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
/// <para>
/// No wipe touches Streamiz's process-id file (<see cref="ProcessFile"/>, beside the application's directory): the id in it
/// is part of every stream thread's <c>transactional.id</c> (<c>{app}-{process id}-{client id}-stream-thread-N</c>), so an
/// instance restarted after a crash, wiped or not, initialises the same transactional ids and fences at once whatever
/// transaction its previous run left open, instead of leaving it to the transaction timeout.
/// </para>
/// </remarks>
public static class StateDirectory
{
    /// <summary>The marker a clean stop leaves: <c>{Kafka:StateDir}/{Kafka:ApplicationId}.closed-cleanly</c>.</summary>
    public static string MarkerOf(string stateDir, string applicationId) => ApplicationDir(stateDir, applicationId) + MarkerSuffix;

    private const string MarkerSuffix = ".closed-cleanly";

    /// <summary>
    /// Streamiz's process-id file (<c>Processors.Internal.StateDirectory.PROCESS_FILE_NAME</c> in Streamiz 1.8.2):
    /// <c>{Kafka:StateDir}/streamiz-process-metadata</c>, JSON <c>{"processId": "…"}</c>, written at the first start of a
    /// topology with persistent stores and read at every later one.
    /// </summary>
    public const string ProcessFileName = "streamiz-process-metadata";

    /// <summary>Where Streamiz keeps its process id for <paramref name="stateDir"/>.</summary>
    public static string ProcessFile(string stateDir) => Path.Combine(Path.GetFullPath(stateDir), ProcessFileName);

    private const string RestartsSuffix = ".restarts";

    /// <summary>
    /// The state dir of the <paramref name="generation"/>th stream the supervisor started in this process
    /// (<c>{Kafka:StateDir}/{Kafka:ApplicationId}.restarts/{generation}</c>), created empty with Streamiz's process-id file
    /// copied into it, so the new stream has the same transactional ids as the one it replaces and fences it. A stream that was
    /// abandoned still holds its stores open (RocksDB refuses a second opening in one process), hence a directory of its own;
    /// the next start wipes them all.
    /// </summary>
    public static string PrepareRestart(string stateDir, string applicationId, int generation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(generation);
        var dir = Path.Combine(ApplicationDir(stateDir, applicationId) + RestartsSuffix, generation.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        if (File.Exists(ProcessFile(stateDir)))
        {
            File.Copy(ProcessFile(stateDir), ProcessFile(dir));
        }

        return dir;
    }

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

        DeleteRestarts(dir); // streams the supervisor started: never closed cleanly, never kept
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

        DeleteRestarts(dir);
    }

    private static void DeleteRestarts(string applicationDir)
    {
        if (Directory.Exists(applicationDir + RestartsSuffix))
        {
            Directory.Delete(applicationDir + RestartsSuffix, recursive: true);
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
