using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Topology.Mapping;
using Streamiz.Kafka.Net.State;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Processing;

/// <summary>The contact channel a buyer prefers, from the global store of <c>All_Clients</c> (CRM's records).</summary>
internal static class ClientContacts
{
    /// <summary>The client's preferred contact channel; NONE when the client is unknown or its record cannot be read.</summary>
    public static ContactChannel Of(IReadOnlyKeyValueStore<string, ValueAndTimestamp<byte[]>>? clients, Codec codec, string? clientId)
    {
        if (clientId is null || clients?.Get(clientId)?.Value is not { Length: > 0 } bytes)
        {
            return ContactChannel.None;
        }

        try
        {
            return EnumMap.Convert<C.ContactChannel, ContactChannel>(codec.Decode(Topics.Clients, bytes).preferredContact);
        }
        catch (Exception e) when (e is Serialization.AvroDeserializationException or Avro.AvroException)
        {
            return ContactChannel.None; // an undecodable client record must not block an issue; CRM resolves the contact itself
        }
    }
}
