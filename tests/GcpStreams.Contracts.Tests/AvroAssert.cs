using System.Collections;
using Avro.IO;
using Avro.Specific;

namespace GcpStreams.Contracts.Tests;

/// <summary>Binary round trip and structural comparison of generated records (they have no Equals).</summary>
internal static class AvroAssert
{
    public static T RoundTrip<T>(T record)
        where T : ISpecificRecord
    {
        using var stream = new MemoryStream();
        new SpecificDatumWriter<T>(record.Schema).Write(record, new BinaryEncoder(stream));
        stream.Position = 0;
        var read = new SpecificDatumReader<T>(record.Schema, record.Schema).Read(default!, new BinaryDecoder(stream));
        Assert.That(stream.Position, Is.EqualTo(stream.Length), "the reader consumed every byte written");
        return read;
    }

    /// <summary>Paths where <paramref name="expected"/> and <paramref name="actual"/> differ; empty if equal.</summary>
    public static List<string> Differences(object? expected, object? actual, string path = "$")
    {
        var differences = new List<string>();
        Compare(expected, actual, path, differences);
        return differences;
    }

    /// <summary>Paths of fields that are null or empty collections (a sample meant to exercise every field).</summary>
    public static List<string> Unpopulated(object? value, string path = "$")
    {
        var missing = new List<string>();
        FindUnpopulated(value, path, missing);
        return missing;
    }

    private static void Compare(object? expected, object? actual, string path, List<string> differences)
    {
        switch (expected)
        {
            case null:
                if (actual is not null)
                {
                    differences.Add($"{path}: expected null, got {actual}");
                }

                break;
            case ISpecificRecord record:
                if (actual is not ISpecificRecord other || other.GetType() != record.GetType())
                {
                    differences.Add($"{path}: expected {record.GetType().Name}, got {actual?.GetType().Name ?? "null"}");
                    break;
                }

                foreach (var field in ((Avro.RecordSchema)record.Schema).Fields)
                {
                    Compare(record.Get(field.Pos), other.Get(field.Pos), $"{path}.{field.Name}", differences);
                }

                break;
            case byte[] bytes:
                if (actual is not byte[] otherBytes || !bytes.SequenceEqual(otherBytes))
                {
                    differences.Add($"{path}: bytes differ");
                }

                break;
            case IDictionary map:
                if (actual is not IDictionary otherMap || otherMap.Count != map.Count)
                {
                    differences.Add($"{path}: maps differ in size");
                    break;
                }

                foreach (DictionaryEntry entry in map)
                {
                    if (!otherMap.Contains(entry.Key))
                    {
                        differences.Add($"{path}[{entry.Key}]: missing");
                        continue;
                    }

                    Compare(entry.Value, otherMap[entry.Key], $"{path}[{entry.Key}]", differences);
                }

                break;
            case IList list:
                if (actual is not IList otherList || otherList.Count != list.Count)
                {
                    differences.Add($"{path}: lists differ in size");
                    break;
                }

                for (var i = 0; i < list.Count; i++)
                {
                    Compare(list[i], otherList[i], $"{path}[{i}]", differences);
                }

                break;
            case DateTime time:
                if (actual is not DateTime otherTime || otherTime.ToUniversalTime() != time.ToUniversalTime())
                {
                    differences.Add($"{path}: expected {time:O}, got {actual}");
                }

                break;
            default:
                if (!expected.Equals(actual))
                {
                    differences.Add($"{path}: expected {expected}, got {actual ?? "null"}");
                }

                break;
        }
    }

    private static void FindUnpopulated(object? value, string path, List<string> missing)
    {
        switch (value)
        {
            case null:
                missing.Add(path);
                break;
            case ISpecificRecord record:
                foreach (var field in ((Avro.RecordSchema)record.Schema).Fields)
                {
                    FindUnpopulated(record.Get(field.Pos), $"{path}.{field.Name}", missing);
                }

                break;
            case ICollection { Count: 0 }:
                missing.Add(path + " (empty)");
                break;
            case IList list:
                for (var i = 0; i < list.Count; i++)
                {
                    FindUnpopulated(list[i], $"{path}[{i}]", missing);
                }

                break;
            default:
                break;
        }
    }
}
