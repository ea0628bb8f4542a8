using Confluent.SchemaRegistry;

namespace GcpStreams.SchemaRegistry;

/// <summary>Associations (resource -&gt; subject links, used by Confluent's "Associated" subject name strategy).</summary>
public sealed partial class InProcessSchemaRegistry
{
    private const string ResourceWildcard = "-";
    private readonly List<Association> associations = [];

    /// <inheritdoc />
    /// <remarks>
    /// Like Confluent's mock and server: an empty list when nothing matches; <paramref name="resourceNamespace"/>
    /// "-" (or null) matches every namespace; a non-positive <paramref name="limit"/> means no limit.
    /// </remarks>
    public Task<List<Association>> GetAssociationsByResourceNameAsync(
        string resourceName,
        string? resourceNamespace,
        string? resourceType,
        List<string>? associationTypes,
        string? lifecycle,
        int offset,
        int limit) =>
        Complete(() =>
        {
            if (string.IsNullOrEmpty(resourceName))
            {
                throw SchemaRegistryErrors.InvalidAssociation("resourceName");
            }

            var wanted = NormalizeLifecycle(lifecycle, allowNull: true);
            lock (gate)
            {
                var matches = associations
                    .Where(a => a.ResourceName == resourceName)
                    .Where(a => resourceNamespace is null or ResourceWildcard || a.ResourceNamespace == resourceNamespace)
                    .Where(a => resourceType is null || a.ResourceType == resourceType)
                    .Where(a => associationTypes is null || associationTypes.Count == 0 || associationTypes.Contains(a.AssociationType))
                    .Where(a => wanted is null || a.Lifecycle == wanted)
                    .Skip(Math.Max(0, offset));
                if (limit > 0)
                {
                    matches = matches.Take(limit);
                }

                return matches.Select(Copy).ToList();
            }
        });

    /// <inheritdoc />
    /// <remarks>
    /// Creates the associations of one resource. Defaults: resource type "topic", association type "value",
    /// lifecycle "STRONG", not frozen. A subject must exist unless the association carries a schema, which is
    /// then registered under it (compatibility rules apply). An association type already present for the
    /// resource is refused with 40903.
    /// </remarks>
    public Task<AssociationResponse> CreateAssociationAsync(AssociationCreateOrUpdateRequest request) =>
        Complete(() =>
        {
            ArgumentNullException.ThrowIfNull(request);
            var resourceType = string.IsNullOrEmpty(request.ResourceType) ? "topic" : request.ResourceType;
            Require(request.ResourceName, "resourceName");
            Require(request.ResourceNamespace, "resourceNamespace");
            Require(request.ResourceId, "resourceId");
            if (request.Associations is not { Count: > 0 })
            {
                throw SchemaRegistryErrors.InvalidAssociation("associations");
            }

            var planned = request.Associations.Select(info =>
            {
                Require(info?.Subject, "subject");
                var associationType = string.IsNullOrEmpty(info!.AssociationType) ? "value" : info.AssociationType;
                if (resourceType == "topic" && associationType is not ("key" or "value"))
                {
                    throw SchemaRegistryErrors.InvalidAssociation(
                        $"resourceType {resourceType} and associationType {associationType} don't match");
                }

                return (Info: info, AssociationType: associationType, Lifecycle: NormalizeLifecycle(info.Lifecycle, allowNull: false)!);
            }).ToList();
            if (planned.Select(p => p.AssociationType).Distinct(StringComparer.Ordinal).Count() != planned.Count)
            {
                throw SchemaRegistryErrors.InvalidAssociation("associationType (each type may appear once)");
            }

            lock (gate)
            {
                foreach (var (info, associationType, _) in planned)
                {
                    if (associations.Any(a => a.ResourceId == request.ResourceId && a.ResourceType == resourceType
                                                                                   && a.AssociationType == associationType))
                    {
                        throw SchemaRegistryErrors.AssociationExists(associationType, request.ResourceId);
                    }

                    if (info.Schema is null && !subjects.ContainsKey(info.Subject))
                    {
                        throw SchemaRegistryErrors.SubjectNotFound(info.Subject);
                    }
                }

                var infos = new List<AssociationInfo>();
                foreach (var (info, associationType, lifecycle) in planned)
                {
                    if (info.Schema is not null)
                    {
                        Register(info.Subject, info.Schema, info.Normalize ?? false);
                    }

                    var association = new Association(
                        info.Subject,
                        Guid.NewGuid().ToString("D"),
                        request.ResourceName,
                        request.ResourceNamespace,
                        request.ResourceId,
                        resourceType,
                        associationType,
                        lifecycle,
                        info.Frozen ?? false);
                    associations.Add(association);
                    infos.Add(new AssociationInfo(info.Subject, associationType, lifecycle, association.Frozen, info.Schema));
                }

                return new AssociationResponse(request.ResourceName, request.ResourceNamespace, request.ResourceId, resourceType, infos);
            }
        });

    /// <inheritdoc />
    /// <remarks>
    /// Removes a resource's associations (optionally of some types only). A frozen association is refused with
    /// 40908 unless <paramref name="cascadeLifecycle"/>; with it, the subject of a STRONG association is deleted
    /// too (its versions; schema ids stay resolvable).
    /// </remarks>
    public Task DeleteAssociationsAsync(string resourceId, string? resourceType, List<string>? associationTypes, bool cascadeLifecycle) =>
        Complete(() =>
        {
            Require(resourceId, "resourceId");
            lock (gate)
            {
                var doomed = associations
                    .Where(a => a.ResourceId == resourceId)
                    .Where(a => resourceType is null || a.ResourceType == resourceType)
                    .Where(a => associationTypes is null || associationTypes.Count == 0 || associationTypes.Contains(a.AssociationType))
                    .ToList();
                var frozen = doomed.FirstOrDefault(a => a.Frozen);
                if (!cascadeLifecycle && frozen is not null)
                {
                    throw SchemaRegistryErrors.AssociationFrozen(frozen.AssociationType, frozen.Subject);
                }

                foreach (var association in doomed)
                {
                    associations.Remove(association);
                    if (cascadeLifecycle && association.Lifecycle == "STRONG")
                    {
                        subjects.Remove(association.Subject);
                        subjectCompatibility.Remove(association.Subject);
                    }
                }

                return true;
            }
        });

    private static Association Copy(Association a) =>
        new(a.Subject, a.Guid, a.ResourceName, a.ResourceNamespace, a.ResourceId, a.ResourceType, a.AssociationType, a.Lifecycle, a.Frozen);

    private static void Require(string? value, string property)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw SchemaRegistryErrors.InvalidAssociation(property);
        }
    }

    private static string? NormalizeLifecycle(string? lifecycle, bool allowNull)
    {
        if (string.IsNullOrEmpty(lifecycle))
        {
            return allowNull ? null : "STRONG";
        }

        var upper = lifecycle.ToUpperInvariant();
        return upper is "STRONG" or "WEAK" ? upper : throw SchemaRegistryErrors.InvalidAssociation($"lifecycle {lifecycle}");
    }
}
