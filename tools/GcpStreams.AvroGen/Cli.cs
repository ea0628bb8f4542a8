namespace GcpStreams.AvroGen;

/// <summary>The command line: <c>GcpStreams.AvroGen &lt;avro-dir&gt; &lt;output-dir&gt;</c>. Exit 0 done, 1 contract error, 2 usage.</summary>
internal static class Cli
{
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count != 2)
        {
            error.WriteLine("usage: GcpStreams.AvroGen <avro-dir> <output-dir>");
            return 2;
        }

        var (avroDirectory, outputDirectory) = (args[0], args[1]);
        try
        {
            var sources = Generator.ReadSources(avroDirectory);
            var files = Generator.Generate(sources);
            var result = Generator.WriteOutput(outputDirectory, files);
            foreach (var name in result.Written)
            {
                output.WriteLine($"  wrote   {name}");
            }

            foreach (var name in result.Deleted)
            {
                output.WriteLine($"  deleted {name}");
            }

            output.WriteLine($"avrogen: {sources.Count} schemas -> {files.Count} types in {outputDirectory} ({result.Written.Count} written, {result.Unchanged.Count} unchanged, {result.Deleted.Count} deleted)");
            return 0;
        }
        catch (SchemaSetException e)
        {
            error.WriteLine($"avrogen: error: {e.Message}");
            return 1;
        }
    }
}
