namespace GcpStreams.Topology.Processing;

/// <summary>
/// An owner that reads <typeparamref name="TInput"/> from its internal topic (<see cref="InternalTopic{TValue}"/>): the
/// topology wires each owner only to the topic of its input type (<see cref="GcpTopology"/>), so the compiler checks the flow.
/// </summary>
/// <typeparam name="TInput">What the owner's input records carry.</typeparam>
public interface IReads<TInput>
    where TInput : class
{
}
