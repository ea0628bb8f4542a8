using System.Globalization;
using System.Text.Json.Nodes;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The words and examples of the OpenAPI document: the API's description, examples of request bodies and responses
/// (on their schemas), what each problem response means with an example problem, and the token endpoint of Embedded mode.
/// </summary>
internal static class OpenApiExamples
{
    private const string Problems = "https://gcpstreams.dev/problems/";
    private const string CertificateId = "7700142839572011";

    /// <summary>The start of a CVC support grant (its header says typ gcp-cvc-grant+jwt), for the examples.</summary>
    private const string Grant = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjRQaF9sX0x3IiwidHlwIjoiZ2NwLWN2Yy1ncmFudCtqd3QifQ.eyJqdGkiOiIzZjBj…";

    /// <summary>The document's description; it names the public dev clients and their secrets only when <paramref name="showDevelopmentSecrets"/>.</summary>
    public static string ApiDescription(bool showDevelopmentSecrets) =>
        "The gift-certificate API of GcpStreams: reads from each instance's read model of GiftCertificates.State and "
        + "GiftCertificates.Stream, writes as commands through the Kafka Streams topology to the single owner of the pool or "
        + "certificate (a read right after a write on the same instance sees it). Amounts are in minor units of `currency`; "
        + "enum values are upper-case strings; the CVC appears only in the answer of the CVC disclosure.\n\n"
        + "**Authorization:** every endpoint but health needs an OAuth2 bearer JWT whose `scope` holds the endpoint's scope "
        + "(client credentials; `gc.admin` implies none of the others). In Swagger UI click *Authorize*, enter a client id and "
        + "secret"
        + (showDevelopmentSecrets
            ? " (dev clients: `admin` / `admin-secret` has every scope; `pos-terminal` / `pos-terminal-secret`, `support` / `support-secret`, ... in docs/api.md)"
            : string.Empty)
        + ", tick the scopes (none ticked: every scope of the client) and *Authorize*; the token lasts until the page is reloaded.\n\n"
        + "**Errors** are RFC 9457 problems (`application/problem+json`) with `type`, `title`, `status`, `detail`, `instance`, "
        + "`traceId` and the extensions named per type: 400 invalid-parameter / invalid-field (a bad body too: not JSON, or a "
        + "member of the wrong JSON type), 401 (no or bad token), 403 (missing scope; cvc-grant-invalid: a support disclosure's grant fails a check), "
        + "404 certificate-not-found / pool-not-found, "
        + "409 pool-empty / command-rejected / cvc-disclosure-not-allowed, 415 unsupported-media-type (a body not sent as "
        + "`application/json`), 422 idempotency-conflict / command-rejected, 429 rate limited, 503 not-ready, 504 "
        + "command-timeout (retry with the same Idempotency-Key).";

    /// <summary>Example values by schema type: request bodies and the key responses.</summary>
    private static readonly Dictionary<Type, Func<JsonNode>> SchemaExamples = new()
    {
        [typeof(ReserveRequest)] = () => new JsonObject
        {
            ["poolId"] = "pos-1000-rub", ["channel"] = "POS", ["nominalMinor"] = 100000, ["currency"] = "RUB",
            ["orderId"] = "order-42", ["holdSeconds"] = 1800,
        },
        [typeof(LockRequest)] = () => new JsonObject { ["reason"] = "customer reported loss" },
        [typeof(SupportDisclosureRequest)] = () => new JsonObject { ["grant"] = Grant, ["reason"] = "buyer lost the notification e-mail, identity checked by phone" },
        [typeof(DevSupportTicketRequest)] = () => new JsonObject { ["certificateId"] = CertificateId, ["ticketId"] = "TICKET-123", ["agentId"] = "agent.ivanova" },
        [typeof(DevSupportTicketResponse)] = () => new JsonObject
        {
            ["grant"] = Grant, ["grantId"] = "3f0c9a7e5b2d4c1e8a6f0b9d7c5e3a1f", ["certificateId"] = CertificateId, ["ticketId"] = "TICKET-123",
            ["agentId"] = "agent.ivanova", ["clientId"] = DevClients.Support, ["expiresAt"] = "2026-11-27T12:26:30Z",
        },
        [typeof(LoadRequest)] = () => new JsonObject
        {
            ["channel"] = "POS", ["nominalMinor"] = 300000, ["currency"] = "RUB", ["count"] = 1000, ["lowWatermark"] = 100, ["series"] = 42,
        },
        [typeof(ReservationResponse)] = () => new JsonObject
        {
            ["certificateId"] = CertificateId, ["poolId"] = "pos-1000-rub", ["reservedUntil"] = "2026-11-27T12:51:26Z",
        },
        [typeof(CertificateResponse)] = Certificate,
        [typeof(CertificatePageResponse)] = () => new JsonObject { ["items"] = new JsonArray(Certificate()), ["nextCursor"] = null },
        [typeof(CertificateHistoryResponse)] = () => new JsonObject
        {
            ["certificateId"] = CertificateId,
            ["events"] = new JsonArray(
                HistoryEvent("certificate.reserved", 1, "2026-11-27T12:21:26Z", amount: null, balanceAfter: null),
                HistoryEvent("certificate.issued", 1, "2026-11-27T12:21:30Z", amount: 100000, balanceAfter: 100000)),
        },
        [typeof(PoolResponse)] = Pool,
        [typeof(PoolListResponse)] = () => new JsonObject { ["items"] = new JsonArray(Pool()) },
        [typeof(CvcResponse)] = () => new JsonObject { ["certificateId"] = CertificateId, ["cvc"] = "0427", ["keyVersion"] = 1 },
        [typeof(NotificationRequestResponse)] = () => new JsonObject
        {
            ["certificateId"] = CertificateId, ["notificationId"] = "0193a5c1-7e2f-8a4b-9c1d-2e3f4a5b6c7d", ["requestedAt"] = "2026-11-27T12:40:00Z",
        },
        [typeof(HealthStatus)] = () => new JsonObject { ["status"] = "ready", ["stream"] = "Running", ["readModel"] = "CaughtUp" },
    };

    /// <summary>What the request bodies' fields mean, and which are required (the records' parameters are all nullable, so the validation is the handler's).</summary>
    private static readonly Dictionary<Type, (string[] Required, Dictionary<string, string> Fields)> RequestFields = new()
    {
        [typeof(ReserveRequest)] = (
            ["poolId", "channel", "nominalMinor", "currency"],
            new(StringComparer.Ordinal)
            {
                ["poolId"] = "The pool: 1 to 64 of A-Za-z0-9._-.",
                ["channel"] = "POS, INTERNET_STORE, MOBILE_APP, CALL_CENTER or PARTNER (any case); must be the pool's.",
                ["nominalMinor"] = "The nominal in minor units (> 0); must be the pool's.",
                ["currency"] = "ISO 4217, upper case; must be the pool's.",
                ["orderId"] = "Optional: the order the certificate is reserved for (up to 200 characters).",
                ["holdSeconds"] = "Optional: how long the reservation holds, 1..Gcp:MaxReservationHoldSeconds (1800 by default; default hold Gcp:ReservationHoldSeconds).",
            }),
        [typeof(LoadRequest)] = (
            ["channel", "nominalMinor", "currency"],
            new(StringComparer.Ordinal)
            {
                ["channel"] = "POS, INTERNET_STORE, MOBILE_APP, CALL_CENTER or PARTNER (any case); must be the pool's if it exists.",
                ["nominalMinor"] = "The nominal of every certificate of the pool, in minor units (> 0).",
                ["currency"] = "ISO 4217, upper case.",
                ["count"] = "How many numbers to generate in the pool's series, 1..10000. Give count or importedNumbers, not both.",
                ["lowWatermark"] = "Optional (>= 0): below this many available certificates the pool raises POOL_LOW; kept from the first load.",
                ["series"] = "The pool's number range, 0..99999, unique per pool: required on the first generating load, then the pool keeps its own.",
                ["importedNumbers"] = "Certificate numbers to import as they are (up to 10000; 16 digits, prefix 77, Luhn check digit).",
            }),
        [typeof(LockRequest)] = (
            ["reason"],
            new(StringComparer.Ordinal) { ["reason"] = "Why (1 to 200 characters); recorded in the certificate.locked / certificate.unlocked / notification.requested event with the caller." }),
        [typeof(SupportDisclosureRequest)] = (
            ["grant", "reason"],
            new(StringComparer.Ordinal)
            {
                ["grant"] = "The CVC support grant the ticketing system signed (compact JWS, header typ gcp-cvc-grant+jwt, RS256 or ES256, audience "
                    + "gcp-streams-cvc-support, at most 15 minutes from iat to exp, a jti) naming the support ticket (ticket_id), this certificate "
                    + "(certificate_id), the agent (agent_id) and the calling client (client_id). One disclosure per ticket; any failed check is 403 cvc-grant-invalid.",
                ["reason"] = "Why support needs the CVC (1 to 200 characters); recorded in the cvc.disclosed event with the caller, the ticket and the agent.",
            }),
        [typeof(DevSupportTicketRequest)] = (
            ["certificateId", "ticketId", "agentId"],
            new(StringComparer.Ordinal)
            {
                ["certificateId"] = "The certificate the grant is for.",
                ["ticketId"] = "The support ticket (1 to 64 of A-Z a-z 0-9 . _ : -).",
                ["agentId"] = "The support agent working the ticket (1 to 64 of A-Z a-z 0-9 . _ : @ -).",
            }),
    };

    /// <summary>What the parameters mean, by name (the path's <c>id</c> depends on the resource).</summary>
    private static readonly Dictionary<string, string> Parameters = new(StringComparer.Ordinal)
    {
        ["status"] = "AVAILABLE, RESERVED, ACTIVE, PARTIALLY_REDEEMED, EXHAUSTED or CANCELLED (any case).",
        ["channel"] = "POS, INTERNET_STORE, MOBILE_APP, CALL_CENTER or PARTNER (any case).",
        ["poolId"] = "Only certificates of this pool.",
        ["orderId"] = "Only the certificate(s) of this order.",
        ["clientId"] = "Only certificates of this client.",
        ["pageSize"] = "1..500, default 50.",
        ["cursor"] = "The nextCursor of the previous page, unchanged.",
        ["notificationId"] = "The notificationId of the notification.requested event (CRM notifier); required.",
        [CommandCalls.IdempotencyKeyHeader] = "Optional, 1 to 200 printable ASCII characters, scoped to the caller: the same key and body return the first outcome again (200); another body with it is 422.",
    };

    public static Task TransformSchemaAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo is not null)
        {
            return Task.CompletedTask;
        }

        var type = context.JsonTypeInfo.Type;
        if (SchemaExamples.TryGetValue(type, out var example))
        {
            schema.Examples = [example()];
        }

        if (RequestFields.TryGetValue(type, out var request))
        {
            schema.Required = new HashSet<string>(request.Required, StringComparer.Ordinal);
            foreach (var (name, property) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
            {
                if (property is OpenApiSchema concrete && request.Fields.TryGetValue(name, out var description))
                {
                    concrete.Description = description;
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Describes the parameters of <paramref name="operation"/>.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="relativePath">Its route, e.g. <c>pools/{id}</c>.</param>
    public static void DescribeParameters(OpenApiOperation operation, string relativePath)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            parameter.Description ??= parameter.Name == "id"
                ? relativePath.StartsWith("pools", StringComparison.Ordinal) ? "The pool id (case-sensitive)." : $"The certificate id: its 16-digit number, e.g. {CertificateId}."
                : Parameters.GetValueOrDefault(parameter.Name ?? string.Empty);
        }
    }

    /// <summary>Describes each problem response of <paramref name="operation"/> (status, types, extensions) and gives an example problem.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="relativePath">Its route, e.g. <c>certificates/{id}/cvc</c>.</param>
    public static void DescribeProblems(OpenApiOperation operation, string relativePath)
    {
        if (operation.Responses is null)
        {
            return;
        }

        var path = "/" + relativePath.Split('?')[0].TrimEnd('/');
        foreach (var (key, response) in operation.Responses)
        {
            if (response is not OpenApiResponse concrete || concrete.Content?.TryGetValue("application/problem+json", out var media) != true
                || !int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                continue;
            }

            var (description, example) = Problem(status, path);
            concrete.Description = description;
            if (example is not null)
            {
                example["status"] = status;
                example["instance"] ??= path.Replace("{id}", path.StartsWith("/pools", StringComparison.Ordinal) ? "pos-1000-rub" : CertificateId, StringComparison.Ordinal);
                example["traceId"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
                media!.Example = example;
            }
        }
    }

    private static (string Description, JsonObject? Example) Problem(int status, string path)
    {
        var pools = path.StartsWith("/pools", StringComparison.Ordinal);
        var reserve = path == "/certificates/next";
        var cvc = path.Contains("/cvc", StringComparison.Ordinal);
        var support = path.EndsWith("/cvc/support-disclosures", StringComparison.Ordinal);
        var lockOrUnlock = path.EndsWith("/lock", StringComparison.Ordinal) || path.EndsWith("/unlock", StringComparison.Ordinal);
        var load = path == "/pools/{id}/certificates";
        var devTickets = path == DevSupportTicketsApi.Path;
        return status switch
        {
            400 when devTickets => (
                "Bad request (type invalid-field): the body is not JSON, or certificateId, ticketId or agentId is missing or invalid; the extension `field` names it.",
                ProblemOf("invalid-field", "Invalid field 'ticketId'", "ticketId is required: 1 to 64 letters, digits, '.', '_', ':' or '-' (e.g. TICKET-123).", ("field", "ticketId"))),
            400 when reserve || lockOrUnlock || load || support => (
                "Bad request (type invalid-field): the body is not JSON, not an object, or a member has the wrong JSON type (e.g. a string or 1e30 where a "
                    + "64-bit whole number belongs), or a field of the body (or the Idempotency-Key header) is missing or invalid; the extension `field` "
                    + "names it: the member's JSON path (`nominalMinor`, `importedNumbers[2]`), the header, or `body`.",
                support
                    ? ProblemOf("invalid-field", "Invalid field 'grant'",
                        "grant is required: the CVC support grant (a compact JWS) the ticketing system signed for this certificate, the support ticket, the agent and your client; in embedded mode POST /dev/support-tickets mints one.",
                        ("field", "grant"))
                    : lockOrUnlock
                    ? ProblemOf("invalid-field", "Invalid field 'reason'", "reason is required: 1 to 200 characters saying why.", ("field", "reason"))
                    : ProblemOf("invalid-field", "Invalid field 'nominalMinor'",
                        "nominalMinor must be a whole number (JSON number without fraction, within 64-bit range), got a string.", ("field", "nominalMinor"))),
            400 => (
                "Bad request: a query parameter is invalid; the extension `parameter` names it (type invalid-parameter).",
                cvc
                    ? ProblemOf("invalid-parameter", "Invalid query parameter 'notificationId'",
                        "notificationId is required: the id of the notification.requested event (at most 200 characters).", ("parameter", "notificationId"))
                    : ProblemOf("invalid-parameter", "Invalid query parameter 'pageSize'", "pageSize must be a whole number from 1 to 500 (got '0').", ("parameter", "pageSize"))),
            401 => (
                "Unauthorized: no access token, or an expired, badly signed or foreign one (`WWW-Authenticate: Bearer`).",
                new JsonObject
                {
                    ["type"] = ProblemResponses.UnauthorizedType, ["title"] = "Missing access token",
                    ["detail"] = "No access token: send 'Authorization: Bearer <access token>' (get one from the OAuth2 token endpoint with the client_credentials grant).",
                }),
            403 when support => (
                "Forbidden: the token lacks the scope gc.cvc.support (`WWW-Authenticate: Bearer error=\"insufficient_scope\"`), or the grant fails a check "
                    + "(type cvc-grant-invalid; extension `failedCheck`: format, type, algorithm, signature, issuer, audience, expired, not-yet-valid, lifetime, "
                    + "jti, ticket, agent, certificate or client; the detail says what failed, never echoing the grant).",
                ProblemOf("cvc-grant-invalid", "Invalid CVC support grant", $"The grant is for certificate '7700142839570008', not {CertificateId}.",
                    ("failedCheck", "certificate"), ("certificateId", CertificateId))),
            403 when reserve || path == "/certificates" => (
                "Forbidden: the token lacks the endpoint's scope (`WWW-Authenticate: Bearer error=\"insufficient_scope\"`), or the caller's channel binding or "
                    + "scopes do not allow the request (type not-allowed-for-caller, extension `parameter`): a client bound to a channel (token claim gcp_channel) "
                    + "reserves and searches only its channel, never by clientId; searching needs gc.backoffice or a channel binding.",
                ProblemOf("not-allowed-for-caller", "Not allowed for this caller",
                    "This client is bound to the POS channel and may search only it (got channel 'INTERNET_STORE').", ("parameter", "channel"))),
            403 => (
                "Forbidden: the token lacks the endpoint's scope (`WWW-Authenticate: Bearer error=\"insufficient_scope\"`; extensions `requiredScope`, `grantedScopes`).",
                new JsonObject
                {
                    ["type"] = ProblemResponses.ForbiddenType, ["title"] = "Insufficient scope",
                    ["detail"] = "Missing scope 'gc.lock': this endpoint requires the scope 'gc.lock'; the access token grants: gc.read gc.reserve.",
                    ["requiredScope"] = "gc.lock", ["grantedScopes"] = new JsonArray("gc.read", "gc.reserve"), ["error"] = "insufficient_scope",
                }),
            404 when reserve => (
                "Not found: the pool was never loaded (type pool-not-found, `reason` NOT_FOUND); nothing is created and no issue.blocked is published.",
                ProblemOf("pool-not-found", "Pool not found", "pool pos-9999-rub has never been loaded", ("reason", "NOT_FOUND"), ("poolId", "pos-9999-rub"))),
            404 when pools => (
                "Not found: no pool with this id (type pool-not-found, extension `poolId`).",
                ProblemOf("pool-not-found", "Pool not found", "No pool with id 'pos-1000-rub' is known to the read model (ids are case-sensitive).", ("poolId", "pos-1000-rub"))),
            404 => (
                "Not found: no certificate with this id (type certificate-not-found, extension `certificateId`).",
                ProblemOf("certificate-not-found", "Certificate not found", $"No certificate with id '{CertificateId}' is known to the read model (ids are case-sensitive).",
                    ("certificateId", CertificateId))),
            409 when reserve => (
                "Conflict: no certificate left (type pool-empty, `reason` POOL_EMPTY), the client holds Gcp:MaxOpenReservationsPerClient open reservations "
                    + "in the pool (type reservation-limit, `reason` RESERVATION_LIMIT), or another refusal (type command-rejected, `reason`).",
                ProblemOf("pool-empty", "No certificate left in the pool", "pool pos-1000-rub has no certificate left", ("reason", "POOL_EMPTY"), ("poolId", "pos-1000-rub"))),
            409 when cvc => (
                "Conflict: the notification's grant was used already or none exists, the support ticket was used already, or the daily cap of support "
                    + "disclosures of the certificate (Gcp:SupportCvcDisclosuresPerDay) or of the calling client (Gcp:SupportCvcDisclosuresPerClientPerDay) is "
                    + "reached (type cvc-disclosure-not-allowed, the detail says which), or the certificate refused (type command-rejected, `reason` e.g. LOCKED).",
                ProblemOf("cvc-disclosure-not-allowed", "The CVC may not be disclosed again", "the CVC was already disclosed for this notification",
                    ("reason", "CVC_DISCLOSURE_NOT_ALLOWED"), ("certificateId", CertificateId))),
            409 when load => (
                "Conflict: another pool has this number series (type series-in-use, extensions `series`, `seriesPoolId`), or the pool refused the load "
                    + "(type command-rejected, `reason` POOL_MISMATCH: the pool holds another channel, nominal or currency; ALREADY_EXISTS: an imported number repeats).",
                ProblemOf("command-rejected", "The pool refused the load", "pool pos-1000-rub holds POS 100000 RUB, the load is for POS 300000 RUB",
                    ("reason", "POOL_MISMATCH"), ("poolId", "pos-1000-rub"))),
            409 => (
                "Conflict: the certificate refused the command (type command-rejected, `reason`: LOCKED, INVALID_STATUS or NOT_FOUND when not issued yet).",
                ProblemOf("command-rejected", "The certificate refused the command", "certificate is already locked", ("reason", "LOCKED"), ("certificateId", CertificateId))),
            422 => (
                "Unprocessable: the Idempotency-Key was used with another request (type idempotency-conflict), or the request contradicts the pool "
                    + "(type command-rejected, `reason` CHANNEL_MISMATCH, CURRENCY_MISMATCH, NOMINAL_MISMATCH, ...).",
                ProblemOf("idempotency-conflict", "Idempotency-Key reused with another request", "the key order-42-line-1 was used with another request",
                    ("reason", "IDEMPOTENCY_CONFLICT"), ("poolId", "pos-1000-rub"))),
            413 => (
                "Content too large: the body is larger than the server accepts (Kestrel's MaxRequestBodySize; type invalid-field, extension `field` body).",
                ProblemOf("invalid-field", "Unreadable body", "Request body too large. The max request body size is 30000000 bytes.", ("field", "body"))),
            415 => (
                "Unsupported media type: the body must be JSON sent with `Content-Type: application/json` (type unsupported-media-type).",
                ProblemOf("unsupported-media-type", "Unsupported media type", "The body must be JSON sent as 'Content-Type: application/json' (got 'text/plain').")),
            429 => (
                "Too many requests: the calling client is over its rate limit for this endpoint (Gcp:RateLimits; type rate-limited, extensions `clientId`, "
                    + "`retryAfterSeconds`); retry after the `Retry-After` header's seconds.",
                ProblemOf("rate-limited", "Too many requests", "Client 'internet-store' is over its rate limit for this endpoint (Gcp:RateLimits); retry after 1 s.",
                    ("clientId", "internet-store"), ("retryAfterSeconds", "1"))),
            503 when path == "/health/live" => (
                "Not alive: the stream supervisor gave up on a stuck stream (its threads made no progress for Kafka:StreamStallSeconds after "
                    + "Kafka:StreamStallRestarts restarts in a row); the instance needs a restart (type not-ready).",
                ProblemOf("not-ready", "Not alive", "The stream supervisor gave up: the stream threads made no progress for 60 s (poll count 448; "
                    + "Kafka:StreamStallSeconds is 60) after 3 restart(s) in a row (Kafka:StreamStallRestarts is 3): the instance needs a restart.")),
            503 when path.StartsWith("/health", StringComparison.Ordinal) => (
                "Not ready (`Retry-After: 5`): the stream is not RUNNING, the read model is catching up or failed, the command channel is opening, or "
                    + "(embedded mode) the demo pools are being loaded; extensions `stream`, `readModel`.",
                ProblemOf("not-ready", "Not ready", "The stream is Running; the read model is still reading GiftCertificates.State and GiftCertificates.Stream up to their end offsets.",
                    ("stream", "Running"), ("readModel", "CatchingUp"))),
            503 => (
                "Service unavailable (`Retry-After: 5`): the service is starting and its command channel is not open yet (type not-ready).",
                ProblemOf("not-ready", "Not ready", "The service is starting: its command channel is not open yet.")),
            504 => (
                "Gateway timeout (`Retry-After: 2`): the command got no reply in time; it may still be carried out (type command-timeout). "
                    + "Retry; a reservation with the same Idempotency-Key returns the same certificate.",
                ProblemOf("command-timeout", "The command got no reply in time",
                    "The service did not answer within 10 s. The command may still be carried out: retry after 2 s (a reservation with the same Idempotency-Key returns the same certificate).")),
            _ => ("Problem " + status.ToString(CultureInfo.InvariantCulture) + ".", null),
        };
    }

    private static JsonObject ProblemOf(string type, string title, string detail, params (string Name, string Value)[] extensions)
    {
        var problem = new JsonObject { ["type"] = Problems + type, ["title"] = title, ["detail"] = detail };
        foreach (var (name, value) in extensions)
        {
            problem[name] = value;
        }

        return problem;
    }

    /// <summary>
    /// Embedded mode: <c>POST /connect/token</c>, which the token server serves outside the generated description; its
    /// example names a dev client and its secret only when <paramref name="showDevelopmentSecrets"/>.
    /// </summary>
    public static OpenApiPathItem TokenEndpointPath(bool showDevelopmentSecrets)
    {
        var example = new JsonObject { ["grant_type"] = "client_credentials", ["scope"] = "gc.read gc.reserve" };
        if (showDevelopmentSecrets)
        {
            example["client_id"] = DevClients.PosTerminal;
            example["client_secret"] = "pos-terminal-secret";
        }

        var form = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string>(StringComparer.Ordinal) { "grant_type" },
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["grant_type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("client_credentials")] },
                ["client_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The client id (or send HTTP Basic credentials)." },
                ["client_secret"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The client secret (or send HTTP Basic credentials)." },
                ["scope"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "Space-separated scopes to ask for; omitted: every scope of the client. A scope the client does not have is refused (invalid_scope).",
                },
            },
            Examples = [example],
        };
        var token = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["access_token"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A signed JWT (RS256), audience gcp-streams." },
                ["token_type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["expires_in"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "Seconds (Auth:TokenLifetimeMinutes)." },
                ["scope"] = new OpenApiSchema { Type = JsonSchemaType.String },
            },
            Examples = [new JsonObject { ["access_token"] = "eyJhbGciOiJSUzI1NiIs…", ["token_type"] = "Bearer", ["expires_in"] = 3600, ["scope"] = "gc.read gc.reserve" }],
        };
        var error = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["error"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["error_description"] = new OpenApiSchema { Type = JsonSchemaType.String },
            },
            Examples = [new JsonObject { ["error"] = "invalid_client", ["error_description"] = "The specified client credentials are invalid." }],
        };
        return new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation>
            {
                [HttpMethod.Post] = new()
                {
                    OperationId = "DevToken",
                    Tags = new HashSet<OpenApiTagReference> { new("Auth") },
                    Summary = "Get an access token (OAuth2 client credentials; Embedded mode's development token endpoint).",
                    Description = "Form-encoded (RFC 6749 §4.4). Dev clients and their scopes are in docs/api.md; discovery at "
                        + GcpAuthenticationExtensions.DiscoveryPath + ". Anonymous: the client authenticates in the request.",
                    RequestBody = new OpenApiRequestBody
                    {
                        Required = true,
                        Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/x-www-form-urlencoded"] = new() { Schema = form } },
                    },
                    Responses = new OpenApiResponses
                    {
                        ["200"] = new OpenApiResponse
                        {
                            Description = "The access token.",
                            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/json"] = new() { Schema = token } },
                        },
                        ["400"] = new OpenApiResponse
                        {
                            Description = "An OAuth2 error (RFC 6749 §5.2): invalid_request, unsupported_grant_type, invalid_scope, ...",
                            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/json"] = new() { Schema = error } },
                        },
                        ["401"] = new OpenApiResponse
                        {
                            Description = "invalid_client: unknown client or wrong secret.",
                            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/json"] = new() { Schema = error } },
                        },
                        ["429"] = new OpenApiResponse
                        {
                            Description = "This source address is over the token endpoint's rate limit (Gcp:RateLimits:TokenRequestsPerMinute, TokenBurst): "
                                + "a rate-limited problem with Retry-After.",
                            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                            {
                                ["application/problem+json"] = new()
                                {
                                    Example = ProblemOf("rate-limited", "Too many requests",
                                        "Address 203.0.113.7 is over the token endpoint's rate limit (Gcp:RateLimits:TokenRequestsPerMinute, TokenBurst); retry after 1 s."),
                                },
                            },
                        },
                    },
                },
            },
        };
    }

    private static JsonObject Certificate() => new()
    {
        ["certificateId"] = CertificateId, ["status"] = "ACTIVE", ["balanceMinor"] = 100000, ["heldMinor"] = 0, ["nominalMinor"] = 100000,
        ["currency"] = "RUB", ["channel"] = "POS", ["poolId"] = "pos-1000-rub", ["locked"] = false, ["lockReason"] = null,
        ["orderId"] = "order-42", ["clientId"] = "client-7", ["reservedUntil"] = "2026-11-27T12:51:26Z", ["issuedAt"] = "2026-11-27T12:21:30Z",
        ["sequence"] = 1, ["updatedAt"] = "2026-11-27T12:21:30Z",
    };

    private static JsonObject Pool() => new()
    {
        ["poolId"] = "pos-1000-rub", ["channel"] = "POS", ["nominalMinor"] = 100000, ["currency"] = "RUB", ["available"] = 499, ["reserved"] = 0,
        ["issued"] = 1, ["loaded"] = 500, ["lowWatermark"] = 50, ["isLow"] = false, ["issueBlocked"] = 0, ["sequence"] = 2, ["updatedAt"] = "2026-11-27T12:21:30Z", ["series"] = 1,
    };

    private static JsonObject HistoryEvent(string type, long sequence, string at, long? amount, long? balanceAfter) => new()
    {
        ["eventId"] = "0190c2a4-8e1b-8f3a-9c5d-2b7e4f6a1d03", ["eventType"] = type, ["occurredAt"] = at, ["sequence"] = sequence,
        ["poolId"] = "pos-1000-rub", ["channel"] = "POS", ["currency"] = "RUB", ["correlationId"] = "order-42", ["amountMinor"] = amount,
        ["balanceAfterMinor"] = balanceAfter, ["heldAfterMinor"] = balanceAfter is null ? null : 0, ["detail"] = null,
    };
}
