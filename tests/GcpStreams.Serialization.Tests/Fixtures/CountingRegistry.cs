using System.Collections.Concurrent;
using System.Reflection;
using Confluent.SchemaRegistry;

namespace GcpStreams.Serialization.Tests.Fixtures;

/// <summary>An <see cref="ISchemaRegistryClient"/> decorator that counts the calls made to the registry.</summary>
public class CountingRegistry : DispatchProxy
{
    private ISchemaRegistryClient inner = null!;

    public ConcurrentDictionary<string, int> Calls { get; } = new();

    public int TotalCalls => Calls.Values.Sum();

    public static (ISchemaRegistryClient Client, CountingRegistry Counter) Wrap(ISchemaRegistryClient inner)
    {
        var client = Create<ISchemaRegistryClient, CountingRegistry>();
        var counter = (CountingRegistry)(object)client;
        counter.inner = inner;
        return (client, counter);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (!targetMethod.Name.StartsWith("get_", StringComparison.Ordinal))
        {
            Calls.AddOrUpdate(targetMethod.Name, 1, (_, n) => n + 1);
        }

        try
        {
            return targetMethod.Invoke(inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}
