using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// The logger factory handed to Streamiz. Streamiz keeps loggers in static fields created from the first factory it is
/// given, so that factory must live as long as the process: this one does, and forwards every log to the logger factory of
/// the host currently running (nothing while none is), so logs still follow the host's configuration.
/// </summary>
internal sealed class StreamizLogging : ILoggerFactory
{
    public static readonly StreamizLogging Instance = new();

    private readonly ConcurrentDictionary<(ILoggerFactory, string), ILogger> loggers = new();
    private ILoggerFactory current = NullLoggerFactory.Instance;

    private StreamizLogging()
    {
    }

    public void Attach(ILoggerFactory factory) => Volatile.Write(ref current, factory);

    public void Detach(ILoggerFactory factory)
    {
        Interlocked.CompareExchange(ref current, NullLoggerFactory.Instance, factory);
        foreach (var key in loggers.Keys.Where(k => ReferenceEquals(k.Item1, factory)))
        {
            loggers.TryRemove(key, out _);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Forwarding(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("providers belong to the host's logging");

    public void Dispose()
    {
        // process-wide: never disposed
    }

    private ILogger Current(string category)
    {
        var factory = Volatile.Read(ref current);
        return loggers.GetOrAdd((factory, category), key => key.Item1.CreateLogger(key.Item2));
    }

    private sealed class Forwarding(StreamizLogging owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner.Current(category).BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => owner.Current(category).IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Current(category).Log(logLevel, eventId, state, exception, formatter);
    }
}
