// Usage: dotnet run --project tools/GcpStreams.AvroGen -- <avro-dir> <output-dir>
return GcpStreams.AvroGen.Cli.Run(args, Console.Out, Console.Error);
