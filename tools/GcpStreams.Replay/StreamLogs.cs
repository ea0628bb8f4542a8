using Microsoft.Extensions.Logging;

namespace GcpStreams.Replay;

/// <summary>The shadow stream's own log (Streamiz), at Warning and above, as single lines on a writer (stderr).</summary>
internal sealed class StreamLogs(TextWriter writer, LogLevel minimum) : ILoggerProvider, ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(writer, minimum, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriter writer, LogLevel minimum, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            lock (writer)
            {
                writer.WriteLine($"shadow stream {logLevel}: {category} {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception.Message)}");
            }
        }
    }
}
