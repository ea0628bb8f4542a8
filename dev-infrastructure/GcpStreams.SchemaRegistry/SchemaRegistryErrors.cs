using System.Globalization;
using System.Net;
using Confluent.SchemaRegistry;

namespace GcpStreams.SchemaRegistry;

/// <summary>Confluent Schema Registry error codes (HTTP status followed by two digits), as its REST API returns them.</summary>
public static class SchemaRegistryErrorCodes
{
    /// <summary>Subject not found (HTTP 404).</summary>
    public const int SubjectNotFound = 40401;

    /// <summary>Version not found (HTTP 404).</summary>
    public const int VersionNotFound = 40402;

    /// <summary>Schema not found (HTTP 404).</summary>
    public const int SchemaNotFound = 40403;

    /// <summary>The subject has no subject-level compatibility configured (HTTP 404).</summary>
    public const int SubjectLevelCompatibilityNotConfigured = 40408;

    /// <summary>The schema is incompatible with an earlier schema of the subject (HTTP 409).</summary>
    public const int IncompatibleSchema = 40901;

    /// <summary>Older servers' code for an incompatible schema (HTTP 409).</summary>
    public const int IncompatibleSchemaLegacy = 409;

    /// <summary>An association of that type already exists for the resource (HTTP 409).</summary>
    public const int AssociationForResourceExists = 40903;

    /// <summary>The association is frozen (HTTP 409).</summary>
    public const int AssociationFrozen = 40908;

    /// <summary>Invalid schema (HTTP 422).</summary>
    public const int InvalidSchema = 42201;

    /// <summary>Invalid version (HTTP 422).</summary>
    public const int InvalidVersion = 42202;

    /// <summary>Invalid compatibility level (HTTP 422).</summary>
    public const int InvalidCompatibilityLevel = 42203;

    /// <summary>Invalid subject (HTTP 422).</summary>
    public const int InvalidSubject = 42208;

    /// <summary>Invalid association (HTTP 422).</summary>
    public const int InvalidAssociation = 42212;
}

/// <summary>Builds <see cref="SchemaRegistryException"/>s with Confluent's messages, HTTP statuses and error codes.</summary>
internal static class SchemaRegistryErrors
{
    public static SchemaRegistryException SubjectNotFound(string subject) =>
        new($"Subject '{subject}' not found.", HttpStatusCode.NotFound, SchemaRegistryErrorCodes.SubjectNotFound);

    public static SchemaRegistryException VersionNotFound(int version) =>
        new($"Version {version.ToString(CultureInfo.InvariantCulture)} not found.", HttpStatusCode.NotFound, SchemaRegistryErrorCodes.VersionNotFound);

    public static SchemaRegistryException SchemaNotFound() =>
        new("Schema not found", HttpStatusCode.NotFound, SchemaRegistryErrorCodes.SchemaNotFound);

    public static SchemaRegistryException SchemaNotFound(string idOrGuid) =>
        new($"Schema {idOrGuid} not found", HttpStatusCode.NotFound, SchemaRegistryErrorCodes.SchemaNotFound);

    public static SchemaRegistryException SubjectCompatibilityNotConfigured(string subject) =>
        new($"Subject '{subject}' does not have subject-level compatibility configured",
            HttpStatusCode.NotFound, SchemaRegistryErrorCodes.SubjectLevelCompatibilityNotConfigured);

    public static SchemaRegistryException Incompatible(string subject, Compatibility level, IEnumerable<string> details) =>
        new($"Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: ["
            + string.Join(", ", details) + $", {{compatibility: '{AvroCompatibility.CompatibilityName(level)}'}}]",
            HttpStatusCode.Conflict, SchemaRegistryErrorCodes.IncompatibleSchema);

    public static SchemaRegistryException InvalidSchema(string reason) =>
        new($"Invalid schema: {reason}", HttpStatusCode.UnprocessableEntity, SchemaRegistryErrorCodes.InvalidSchema);

    public static SchemaRegistryException InvalidVersion(int version) =>
        new($"The specified version '{version.ToString(CultureInfo.InvariantCulture)}' is not a valid version id. "
            + "Allowed values are between [1, 2^31-1] and the string \"latest\"",
            HttpStatusCode.UnprocessableEntity, SchemaRegistryErrorCodes.InvalidVersion);

    public static SchemaRegistryException InvalidCompatibilityLevel(Compatibility level) =>
        new($"Invalid compatibility level: {level}", HttpStatusCode.UnprocessableEntity, SchemaRegistryErrorCodes.InvalidCompatibilityLevel);

    public static SchemaRegistryException InvalidSubject(string? subject) =>
        new($"The specified subject '{subject}' is not valid.", HttpStatusCode.UnprocessableEntity, SchemaRegistryErrorCodes.InvalidSubject);

    public static SchemaRegistryException InvalidAssociation(string reason) =>
        new($"The association specified an invalid value for property, {reason}",
            HttpStatusCode.UnprocessableEntity, SchemaRegistryErrorCodes.InvalidAssociation);

    public static SchemaRegistryException AssociationExists(string associationType, string resource) =>
        new($"An association of type '{associationType}' already exists for resource '{resource}'",
            HttpStatusCode.Conflict, SchemaRegistryErrorCodes.AssociationForResourceExists);

    public static SchemaRegistryException AssociationFrozen(string associationType, string subject) =>
        new($"The association of type '{associationType}' is frozen for subject '{subject}'",
            HttpStatusCode.Conflict, SchemaRegistryErrorCodes.AssociationFrozen);
}
