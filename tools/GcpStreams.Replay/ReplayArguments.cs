namespace GcpStreams.Replay;

/// <summary>A command line of <c>--name value</c> pairs and <c>--switch</c>es; an unknown name or a missing value is an error naming it.</summary>
internal sealed class ReplayArguments
{
    private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> switches = new(StringComparer.Ordinal);

    private ReplayArguments()
    {
    }

    /// <exception cref="ArgumentException">An argument neither in <paramref name="known"/> nor in <paramref name="knownSwitches"/>, or one without its value.</exception>
    public static ReplayArguments Parse(IReadOnlyList<string> args, IReadOnlySet<string> known, IReadOnlySet<string> knownSwitches)
    {
        var parsed = new ReplayArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (knownSwitches.Contains(name))
            {
                parsed.switches.Add(name);
                continue;
            }

            if (!known.Contains(name))
            {
                throw new ArgumentException($"unknown argument '{name}'.");
            }

            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value.");
            }

            if (!parsed.values.TryGetValue(name, out var list))
            {
                parsed.values[name] = list = [];
            }

            list.Add(args[++i]);
        }

        return parsed;
    }

    public bool Has(string name) => switches.Contains(name);

    public IReadOnlyList<string> All(string name) => values.TryGetValue(name, out var list) ? list : [];

    public string? Optional(string name) => values.TryGetValue(name, out var list) ? list[^1] : null;

    /// <exception cref="ArgumentException">The argument is missing.</exception>
    public string Required(string name) => Optional(name) is { Length: > 0 } value ? value : throw new ArgumentException($"{name} is required.");

    /// <exception cref="ArgumentException">Not a whole number in range.</exception>
    public int Number(string name, int fallback, int min, int max)
    {
        if (Optional(name) is not { } text)
        {
            return fallback;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} is '{text}'; it must be a whole number from {min} to {max}.");
    }

    /// <exception cref="ArgumentException">Not base64 of at least <paramref name="minBytes"/> bytes.</exception>
    public byte[] Key(string name, string? environment, string fallback, int minBytes)
    {
        var text = Optional(name) ?? (environment is null ? null : Environment.GetEnvironmentVariable(environment)) ?? fallback;
        try
        {
            var key = Convert.FromBase64String(text);
            return key.Length >= minBytes ? key : throw new ArgumentException($"{name} must decode to at least {minBytes} bytes.");
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{name} is not base64."); // never echoes a value that may be a secret
        }
    }
}
