using System.Collections.Concurrent;
using System.Text;

namespace GcpStreams.Topology.Mapping;

/// <summary>
/// Maps the domain's PascalCase enums to the contracts' UPPER_SNAKE enums by name (and back), so adding a symbol
/// to both never needs a hand-written table. A domain value the contract lacks fails loudly (a test covers every value).
/// </summary>
public static class EnumMap
{
    private static readonly ConcurrentDictionary<(Type, Type, int), object> Cache = new();

    public static TTo Convert<TFrom, TTo>(TFrom value)
        where TFrom : struct, Enum
        where TTo : struct, Enum =>
        (TTo)Cache.GetOrAdd((typeof(TFrom), typeof(TTo), System.Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)), _ =>
        {
            var name = value.ToString();
            return Enum.TryParse<TTo>(ToUpperSnake(name), ignoreCase: false, out var result) || Enum.TryParse(FromUpperSnake(name), ignoreCase: false, out result)
                ? result
                : throw new ArgumentOutOfRangeException(nameof(value), name, $"{typeof(TTo).FullName} has no symbol for {typeof(TFrom).Name}.{name}");
        });

    internal static string ToUpperSnake(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 8);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]) && !char.IsUpper(pascal[i - 1]))
            {
                sb.Append('_');
            }

            sb.Append(char.ToUpperInvariant(pascal[i]));
        }

        return sb.ToString();
    }

    internal static string FromUpperSnake(string snake) =>
        string.Concat(snake.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant()));
}
