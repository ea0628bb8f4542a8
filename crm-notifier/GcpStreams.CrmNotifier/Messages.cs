using System.Globalization;
using System.Net;

namespace GcpStreams.CrmNotifier;

/// <summary>What one notification says to the buyer (the CVC is in it: built in memory for the send, never logged or stored).</summary>
public sealed record Message(string Subject, string PlainText, string Html, string Sms);

/// <summary>The message templates, in English and Russian (the buyer's locale from All_Clients, else <see cref="NotifierOptions.DefaultLocale"/>).</summary>
public static class Messages
{
    public static string LanguageOf(string? locale, string fallback) =>
        (locale ?? fallback).StartsWith("ru", StringComparison.OrdinalIgnoreCase) ? "ru" : "en";

    public static Message Build(string language, string? name, string certificateId, string cvc, long? nominalMinor, string? currency, bool again)
    {
        var number = Grouped(certificateId);
        var amount = nominalMinor is { } minor ? Amount(minor, currency, language) : null;
        return language == "ru" ? Russian(name, number, cvc, amount, again) : English(name, number, cvc, amount, again);
    }

    private static Message English(string? name, string number, string cvc, string? amount, bool again)
    {
        var greeting = name is { Length: > 0 } ? $"Dear {name}," : "Hello,";
        var value = amount is null ? "Your gift certificate" : $"Your gift certificate for {amount}";
        var resent = again ? " (sent again at your request)" : string.Empty;
        var plain = $"""
            {greeting}

            {value} is ready{resent}.

            Certificate number: {number}
            CVC: {cvc}

            Keep the CVC secret: with the number it pays. We never ask for it by phone or e-mail.
            """;
        var html = Html(greeting, $"{value} is ready{resent}.", "Certificate number", number, "CVC", cvc,
            "Keep the CVC secret: with the number it pays. We never ask for it by phone or e-mail.");
        return new Message(again ? "Your gift certificate (again)" : "Your gift certificate", plain, html, $"Gift certificate {number}, CVC {cvc}{(amount is null ? string.Empty : $", {amount}")}");
    }

    private static Message Russian(string? name, string number, string cvc, string? amount, bool again)
    {
        var greeting = name is { Length: > 0 } ? $"Здравствуйте, {name}!" : "Здравствуйте!";
        var value = amount is null ? "Ваш подарочный сертификат" : $"Ваш подарочный сертификат на {amount}";
        var resent = again ? " (отправлен повторно по вашему запросу)" : string.Empty;
        var plain = $"""
            {greeting}

            {value} готов{resent}.

            Номер сертификата: {number}
            CVC: {cvc}

            Никому не сообщайте CVC: вместе с номером им можно оплатить покупку. Мы никогда не спрашиваем его по телефону или почте.
            """;
        var html = Html(greeting, $"{value} готов{resent}.", "Номер сертификата", number, "CVC", cvc,
            "Никому не сообщайте CVC: вместе с номером им можно оплатить покупку. Мы никогда не спрашиваем его по телефону или почте.");
        return new Message(again ? "Ваш подарочный сертификат (повторно)" : "Ваш подарочный сертификат", plain, html,
            $"Сертификат {number}, CVC {cvc}{(amount is null ? string.Empty : $", {amount}")}");
    }

    private static string Html(string greeting, string value, string numberLabel, string number, string cvcLabel, string cvc, string warning) =>
        $"""
        <!DOCTYPE html>
        <html><body style="font-family: sans-serif">
        <p>{E(greeting)}</p>
        <p>{E(value)}</p>
        <table>
        <tr><td>{E(numberLabel)}:</td><td><b>{E(number)}</b></td></tr>
        <tr><td>{E(cvcLabel)}:</td><td><b>{E(cvc)}</b></td></tr>
        </table>
        <p><small>{E(warning)}</small></p>
        </body></html>
        """;

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The 16-digit number in groups of four, as printed on a card.</summary>
    private static string Grouped(string number) =>
        number.Length == 16 && number.All(char.IsAsciiDigit) ? string.Join(' ', Enumerable.Range(0, 4).Select(i => number.Substring(i * 4, 4))) : number;

    private static string Amount(long minor, string? currency, string language)
    {
        // the process runs with invariant globalization: the two formats spelled out
        var format = new NumberFormatInfo
        {
            NumberGroupSeparator = language == "ru" ? "\u00A0" : ",",
            NumberDecimalSeparator = language == "ru" ? "," : ".",
        };
        var major = (minor / 100m).ToString(minor % 100 == 0 ? "#,0" : "#,0.00", format);
        return currency switch
        {
            "RUB" => language == "ru" ? $"{major} ₽" : $"{major} RUB",
            null => major,
            _ => $"{major} {currency}",
        };
    }
}
