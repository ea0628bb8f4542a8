using System.Net;
using Confluent.SchemaRegistry;

namespace GcpStreams.SchemaRegistry;

/// <summary>Confluent Schema Registry error codes (HTTP status followed by two digits), as its REST API returns them.</summary>
public static class SchemaRegistryErrorCodes
{
    /// <summary>Subject not found (HTTP 404).</summary>
    public const int SubjectNotFound = 40401;

    /// <summary>Schema not found (HTTP 404).</summary>
    public const int SchemaNotFound = 40403;

    /// <summary>The schema is incompatible with an earlier schema of the subject (HTTP 409).</summary>
    public const int IncompatibleSchema = 40901;

    /// <summary>Invalid schema (HTTP 422).</summary>
    public const int InvalidSchema = 42201;

    /// <summary>Invalid subject (HTTP 422).</summary>
    public const int InvalidSubject = 42208;
}

/// <summary>Builds <see cref="SchemaRegistryException"/>s with Confluent's messages, HTTP statuses and error codes.</summary>
internal static class SchemaRegistryErrors
{
    public static SchemaRegistryException SubjectNotFound(string subject) =>
        new($"Subject '{subject}' not found.", HttpStatusCode.NotFound, SchemaRegistryErrorCodes.SubjectNotFound);

    public static SchemaRegistryException SchemaNotFound() =>
        new("Schema not found", HttpStatusCode.NotFound, SchemaRegistryErrorCodes.SchemaNotFound);

    public static SchemaRegistryException SchemaNotFound(string id) =>
        new($"Schema {id} not found", HttpStatusCode.NotFound, SchemaRegistryErrorCodes.SchemaNotFound);

    public static SchemaRegistryException Incompatible(string subject, Compatibility level, IEnumerable<string> details) =>
        new($"Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: ["
            + string.Join(", ", details) + $", {{compatibility: '{AvroCompatibility.CompatibilityName(level)}'}}]",
            HttpStatusCode.Conflict, SchemaRegistryErrorCodes.IncompatibleSchema);

    public static SchemaRegistryException InvalidSchema(string reason) =>
        new($"Invalid schema: {reason}", HttpStatusCode.UnprocessableEntity, SchemaRegistryErrorCodes.InvalidSchema);

    public static SchemaRegistryException InvalidSubject(string? subject) =>
        new($"The specified subject '{subject}' is not valid.", HttpStatusCode.UnprocessableEntity, SchemaRegistryErrorCodes.InvalidSubject);
}
