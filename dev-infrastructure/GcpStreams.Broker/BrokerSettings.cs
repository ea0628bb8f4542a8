using System.Globalization;

namespace GcpStreams.Broker;

/// <summary>The standalone broker's settings, from its command line (<c>make broker BROKER_ARGS=...</c>).</summary>
internal sealed record BrokerSettings
{
    /// <summary>The partitions of every topic: the service's default <c>Kafka:Partitions</c>.</summary>
    public const int DefaultPartitions = 2;

    /// <summary>The service's default <c>Kafka:ApplicationId</c> (its internal topics are named after it).</summary>
    public const string DefaultApplicationId = "gcp-streams";

    public const string Usage = """
        usage: gcp-broker [--port N] [--registry-port N] [--application-id ID] [--partitions N] [--log-start-check-seconds N]
          --port                     the Kafka port on 127.0.0.1 (default: one the OS picks)
          --registry-port            the schema registry's HTTP port on 127.0.0.1 (default: one the OS picks)
          --application-id           the service's Kafka:ApplicationId, which names its internal topics (default gcp-streams)
          --partitions               partitions of every topic, the service's Kafka:Partitions (default 2)
          --log-start-check-seconds  how often every partition's log start is read, to warn when records were dropped (default 10)
        """;

    /// <summary>A fixed Kafka port, or null for one the OS picks.</summary>
    public int? Port { get; init; }

    /// <summary>A fixed schema registry port, or null for one the OS picks.</summary>
    public int? RegistryPort { get; init; }

    public string ApplicationId { get; init; } = DefaultApplicationId;

    public int Partitions { get; init; } = DefaultPartitions;

    /// <summary>How often the log starts are read (<see cref="LogStartWatcher"/>).</summary>
    public TimeSpan LogStartCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Reads the command line; the exception's message names the argument that is wrong.</summary>
    /// <exception cref="ArgumentException">An unknown argument, a missing or bad value.</exception>
    public static BrokerSettings Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var settings = new BrokerSettings();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            settings = name switch
            {
                "--port" => settings with { Port = Number(name, Value(), 1, 65_535) },
                "--registry-port" => settings with { RegistryPort = Number(name, Value(), 1, 65_535) },
                "--application-id" => settings with { ApplicationId = ApplicationIdOf(Value()) },
                "--partitions" => settings with { Partitions = Number(name, Value(), 1, 1024) },
                "--log-start-check-seconds" => settings with { LogStartCheckInterval = TimeSpan.FromSeconds(Number(name, Value(), 1, 3600)) },
                _ => throw new ArgumentException($"unknown argument '{name}'."),
            };
        }

        if (settings.Port is { } port && port == settings.RegistryPort)
        {
            throw new ArgumentException($"--port and --registry-port are both {port}; they need a port each.");
        }

        return settings;
    }

    private static int Number(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} is '{value}'; it must be a whole number from {min} to {max}.");

    private static string ApplicationIdOf(string value) =>
        value.Length is > 0 and <= 100 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') && value is not "." and not ".."
            ? value
            : throw new ArgumentException($"--application-id '{value}' must be 1-100 letters, digits, '.', '_' or '-', and not '.' or '..'.");
}
