using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace GcpStreams.Embedded;

/// <summary>
/// Resolves the library name <c>librdkafka</c> of this assembly's P/Invokes to the same native file that
/// Confluent.Kafka uses, so the mock cluster and the Kafka clients of the process share one librdkafka.
/// </summary>
/// <remarks>
/// <para>
/// Order: (1) let Confluent.Kafka load its library the way it always does (<c>Library.Load()</c>: its
/// <c>librdkafka.so</c>, and on failure <c>centos8-librdkafka.so</c>, both found through the app's
/// deps.json), then read <c>/proc/self/maps</c> to learn which file it mapped and load that very path.
/// (2) If that yields nothing, probe the candidates <see cref="CandidatePaths"/> in Confluent.Kafka's
/// order: <c>librdkafka.so</c> then <c>centos8-librdkafka.so</c>, each in
/// <c>{AppContext.BaseDirectory}/runtimes/linux-{arch}/native/</c> (build output) and in
/// <c>{AppContext.BaseDirectory}</c> (after <c>dotnet publish -r linux-x64</c>).
/// </para>
/// <para>
/// Why not <c>Confluent.Kafka.Library.Load(path)</c>: it exists in 2.16, but on Linux it P/Invokes
/// <c>dlopen</c> from a library named <c>libdl</c>, and Debian 12 ships only <c>libdl.so.2</c>, so it
/// throws <see cref="DllNotFoundException"/> ('libdl'); even past that, it binds its
/// <c>DllImport("librdkafka")</c> class, which resolves to the <c>librdkafka.so</c> that cannot load
/// here (it needs <c>libsasl2.so.3</c>). Letting Confluent.Kafka choose and following it is the only
/// way that agrees by construction.
/// </para>
/// </remarks>
internal static class LibrdkafkaLoader
{
    private static readonly Lazy<LoadedLibrary> Library = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The file names tried, in Confluent.Kafka's order (GSSAPI build first, then the one without).</summary>
    internal static readonly string[] FileNames = ["librdkafka.so", "centos8-librdkafka.so"];

    /// <summary>The native library this assembly uses (loads it on first use).</summary>
    internal static LoadedLibrary Loaded => Library.Value;

    internal static void RegisterResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(LibrdkafkaLoader).Assembly, Resolve);

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == LibrdkafkaNative.LibraryName ? Library.Value.Handle : 0;

    /// <summary>The candidate paths for the fallback probe, in the order they are tried.</summary>
    internal static IReadOnlyList<string> CandidatePaths(string baseDirectory)
    {
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var ridDirectory = Path.Combine(baseDirectory, "runtimes", $"linux-{arch}", "native");
        return [.. FileNames.SelectMany(name => new[] { Path.Combine(ridDirectory, name), Path.Combine(baseDirectory, name) })];
    }

    /// <summary>The librdkafka files currently mapped into this process, read from <c>/proc/self/maps</c>.</summary>
    internal static IReadOnlyList<string> MappedLibrdkafkaFiles(string mapsFile = "/proc/self/maps")
    {
        if (!File.Exists(mapsFile))
        {
            return [];
        }

        return [.. File.ReadLines(mapsFile)
            .Select(PathOfMapping)
            .OfType<string>()
            .Where(path => Path.GetFileName(path).Contains("rdkafka", StringComparison.Ordinal)
                && Path.GetFileName(path).Contains(".so", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The file path of one <c>/proc/PID/maps</c> line, or null for anonymous mappings and deleted files.</summary>
    internal static string? PathOfMapping(string mapsLine)
    {
        var slash = mapsLine.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || mapsLine.EndsWith(" (deleted)", StringComparison.Ordinal))
        {
            return null;
        }

        return mapsLine[slash..];
    }

    private static LoadedLibrary Load()
    {
        var diagnostics = new StringBuilder();

        // (1) Follow Confluent.Kafka.
        try
        {
            Confluent.Kafka.Library.Load();
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or FileLoadException or EntryPointNotFoundException)
        {
            diagnostics.Append("  Confluent.Kafka.Library.Load() failed: ").Append(e.Message).AppendLine();
        }

        foreach (var mapped in MappedLibrdkafkaFiles())
        {
            if (TryLoad(mapped, diagnostics, out var handle))
            {
                return new LoadedLibrary(handle, mapped, LoadedFrom.ConfluentKafka);
            }
        }

        // (2) Probe the files next to the app.
        var candidates = CandidatePaths(AppContext.BaseDirectory);
        foreach (var candidate in candidates)
        {
            if (!File.Exists(candidate))
            {
                diagnostics.Append("  ").Append(candidate).AppendLine(": not found");
                continue;
            }

            if (TryLoad(candidate, diagnostics, out var handle))
            {
                return new LoadedLibrary(handle, candidate, LoadedFrom.Probe);
            }
        }

        throw new DllNotFoundException(
            "Cannot load librdkafka for the embedded Kafka cluster. Confluent.Kafka did not map one into the process "
            + "and none of these files loaded (librdkafka.redist provides them under runtimes/linux-x64/native/; "
            + "after 'dotnet publish -r linux-x64' they sit next to the app):"
            + Environment.NewLine + diagnostics);
    }

    private static bool TryLoad(string path, StringBuilder diagnostics, out nint handle)
    {
        try
        {
            handle = NativeLibrary.Load(path);
            return true;
        }
        catch (DllNotFoundException e)
        {
            diagnostics.Append("  ").Append(path).Append(": ").Append(e.Message.Trim()).AppendLine();
        }
        catch (BadImageFormatException e)
        {
            diagnostics.Append("  ").Append(path).Append(": ").Append(e.Message.Trim()).AppendLine();
        }

        handle = 0;
        return false;
    }
}

/// <summary>Where the native library of the embedded cluster came from.</summary>
internal enum LoadedFrom
{
    /// <summary>The file Confluent.Kafka had mapped into the process.</summary>
    ConfluentKafka,

    /// <summary>The first candidate next to the app that loaded.</summary>
    Probe,
}

/// <summary>A loaded native librdkafka.</summary>
internal sealed record LoadedLibrary(nint Handle, string Path, LoadedFrom From);
