namespace GcpStreams.Ops;

/// <summary>A command line of <c>--name value</c> pairs (a name may repeat); an unknown name or a missing value is an error naming it.</summary>
internal sealed class OpsArguments
{
    private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);

    private OpsArguments()
    {
    }

    /// <exception cref="ArgumentException">An argument not in <paramref name="known"/>, or one without its value.</exception>
    public static OpsArguments Parse(IReadOnlyList<string> args, IReadOnlySet<string> known)
    {
        var parsed = new OpsArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
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
}
