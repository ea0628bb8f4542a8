using System.Reflection;
using System.Text.Json;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.OperatorConsole;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// Live tails of <c>GiftCertificates.Stream</c> as Server-Sent Events, from this instance's read model: <c>GET /certificates/{id}/events</c>
/// (one certificate's events) and <c>GET /pools/{id}/events</c> (every event naming the pool: its loads, blocked issues and alerts, and its
/// certificates' events). Each needs <c>gc.read</c> and shows what the caller may see (<see cref="CallerAccess"/>: another channel's
/// certificate or pool is 404, numbers masked, no order id for POS); each connection is audited when it ends (its latency is how long it was
/// open). The events applied after the connection opened are sent in the read model's order through a bounded buffer
/// (<c>Gcp:LiveTail:BufferEvents</c>): a client that falls further behind gets an <c>overflow</c> event and the end of the stream, never
/// holds the read model back. At most <c>Gcp:LiveTail:MaxStreams</c> tails are open on one instance (503 live-tail-busy beyond).
/// </summary>
public static class LiveTailApi
{
    public const string BusyType = "https://gcpstreams.dev/problems/live-tail-busy";

    /// <summary>The SSE event name of a stream event.</summary>
    public const string EventName = "gcp-event";

    public static IServiceCollection AddGcpLiveTails(this IServiceCollection services)
    {
        services.AddOptions<LiveTailOptions>().BindConfiguration(LiveTailOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LiveTailOptions>, LiveTailOptionsValidation>();
        services.AddSingleton<LiveTailSlots>();
        return services;
    }

    public static IEndpointRouteBuilder MapLiveTailApi(this IEndpointRouteBuilder endpoints)
    {
        const string Framing = " Server-Sent Events (text/event-stream): first `event: ready` (data: what is followed, the buffer size, the heartbeat), then one "
            + "`event: gcp-event` per stream event applied by this instance's read model after the connection opened (id: the event id; data: "
            + "{certificateId, event} with the event as in the history), `: keep-alive` comments every Gcp:LiveTail:HeartbeatSeconds on a quiet stream, and "
            + "`event: overflow` before the end when the client fell Gcp:LiveTail:BufferEvents events behind (read the history, then open a new tail). "
            + "Send the bearer token in the Authorization header (a browser reads the stream with fetch: EventSource cannot send it). "
            + "503 live-tail-busy (Retry-After) when the instance has Gcp:LiveTail:MaxStreams tails open. Audited when the connection ends.";
        MapTail(endpoints.MapGet("/certificates/{id}/events", CertificateEvents), nameof(CertificateEvents),
            "Follow one certificate's events live (Server-Sent Events).",
            "404 certificate-not-found for an unknown id or another channel's certificate." + Framing);
        MapTail(endpoints.MapGet("/pools/{id}/events", PoolEvents), nameof(PoolEvents),
            "Follow a pool's events live: its loads, blocked issues and alerts, and its certificates' events (Server-Sent Events).",
            "404 pool-not-found for an unknown pool or another channel's pool." + Framing);
        return endpoints;
    }

    /// <summary>What both live tails share: scope, read rate limit, audit, and their problem statuses.</summary>
    private static void MapTail(RouteHandlerBuilder tail, string name, string summary, string description) =>
        tail.WithTags("Live tail")
            .RequireAuthorization(Policies.Read)
            .RequireRateLimiting(RateLimits.Lookups)
            .Audited()
            .WithName(name)
            .WithSummary(summary)
            .WithDescription(description)
            .ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);

    public static Results<LiveTailStream, ProblemHttpResult> CertificateEvents(
        string id, CertificateReadModel model, LiveTailSlots slots, IOptions<LiveTailOptions> options, HttpContext context)
    {
        var access = CallerAccess.Of(context);
        var state = model.Get(id);
        var history = state is null ? model.GetHistory(id) : [];
        var visible = state is null ? history.Count > 0 && access.Sees(history[0].Channel) : access.Sees(state.channel);
        return visible ? Open(model, LiveFilter.Certificate(id), access, slots, options.Value, context) : ApiProblems.CertificateNotFound(id, context);
    }

    public static Results<LiveTailStream, ProblemHttpResult> PoolEvents(
        string id, CertificateReadModel model, LiveTailSlots slots, IOptions<LiveTailOptions> options, HttpContext context)
    {
        var access = CallerAccess.Of(context);
        return model.GetPool(id) is { } pool && access.Sees(pool.Channel)
            ? Open(model, LiveFilter.Pool(id), access, slots, options.Value, context)
            : ApiProblems.PoolNotFound(id, context);
    }

    private static Results<LiveTailStream, ProblemHttpResult> Open(
        CertificateReadModel model, LiveFilter filter, CallerAccess access, LiveTailSlots slots, LiveTailOptions options, HttpContext context)
    {
        if (!slots.TryTake(options.MaxStreams))
        {
            context.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Too many live tails",
                detail: $"This instance has {options.MaxStreams} live tails open (Gcp:LiveTail:MaxStreams); retry later.",
                type: BusyType,
                instance: context.Request.Path);
        }

        // subscribed now, before the response starts: nothing applied after this answer began is missed
        return new LiveTailStream(model.Store.Subscribe(filter, options.BufferEvents), access, slots, TimeSpan.FromSeconds(options.HeartbeatSeconds));
    }
}

/// <summary>The open live tails of this instance, against <c>Gcp:LiveTail:MaxStreams</c>.</summary>
public sealed class LiveTailSlots
{
    private int open;

    /// <summary>How many live tails are open.</summary>
    public int Open => Volatile.Read(ref open);

    public bool TryTake(int max)
    {
        if (Interlocked.Increment(ref open) <= max)
        {
            return true;
        }

        Interlocked.Decrement(ref open);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref open);
}

/// <summary>What a live tail's <c>ready</c> event says.</summary>
public sealed record LiveTailReady(string? CertificateId, string? PoolId, int BufferEvents, int HeartbeatSeconds);

/// <summary>One stream event of a live tail: the certificate it is about (null for a pool's own events; masked as the caller sees numbers) and the event as in the history.</summary>
public sealed record LiveTailEvent(string? CertificateId, HistoryEventResponse Event);

/// <summary>What a live tail's <c>overflow</c> event says before the stream ends.</summary>
public sealed record LiveTailOverflow(int BufferEvents, string Detail);

/// <summary>The Server-Sent Events response of a live tail; owns its subscription and its slot until the connection ends.</summary>
public sealed class LiveTailStream(LiveSubscription subscription, CallerAccess access, LiveTailSlots slots, TimeSpan heartbeat) : IResult, IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(LiveTailEvent), ["text/event-stream"]));
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        try
        {
            var json = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            var stopping = httpContext.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, stopping);
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream; charset=utf-8";
            response.OnStarting(() =>
            {
                response.Headers.CacheControl = "no-store"; // it names certificates (SecurityHeaders does so under /certificates only)
                response.Headers["X-Accel-Buffering"] = "no"; // a proxy must pass each event on at once
                return Task.CompletedTask;
            });
            httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            try
            {
                var filter = subscription.Filter;
                await response.WriteAsync(
                    "retry: 5000\n\n" + Frame("ready", null, new LiveTailReady(filter.CertificateId, filter.PoolId, subscription.Capacity, (int)heartbeat.TotalSeconds), json),
                    stop.Token);
                await response.Body.FlushAsync(stop.Token);
                await PumpAsync(response, json, stop.Token);
                if (subscription.Overflowed)
                {
                    await response.WriteAsync(Frame("overflow", null, new LiveTailOverflow(subscription.Capacity,
                        $"This connection fell {subscription.Capacity} events behind the stream (Gcp:LiveTail:BufferEvents) and was ended: read the history, then open a new tail."), json), stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // the client left, or the service stops: the stream simply ends
            }
        }
        finally
        {
            subscription.Dispose();
            slots.Release();
        }
    }

    private async Task PumpAsync(HttpResponse response, JsonSerializerOptions json, CancellationToken stop)
    {
        var reader = subscription.Events;
        while (true)
        {
            bool more;
            using (var beat = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                beat.CancelAfter(heartbeat);
                try
                {
                    more = await reader.WaitToReadAsync(beat.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", stop);
                    await response.Body.FlushAsync(stop);
                    continue;
                }
            }

            if (!more)
            {
                return;
            }

            while (reader.TryRead(out var e))
            {
                var view = new LiveTailEvent(e.CertificateId is { } id ? access.Number(id) : null, HistoryEventResponse.From(e.Entry, access));
                await response.WriteAsync(Frame(LiveTailApi.EventName, e.Entry.EventId, view, json), stop);
            }

            await response.Body.FlushAsync(stop);
        }
    }

    /// <summary>One SSE frame: the event name, the id if any, the data as one line of JSON (JSON without indentation has no line break).</summary>
    internal static string Frame<T>(string eventName, string? id, T data, JsonSerializerOptions json) =>
        (id is null ? string.Empty : $"id: {id}\n") + $"event: {eventName}\ndata: {JsonSerializer.Serialize(data, json)}\n\n";
}
