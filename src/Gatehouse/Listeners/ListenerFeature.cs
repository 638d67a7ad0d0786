using Gatehouse.Configuration;

namespace Gatehouse.Listeners;

/// <summary>Which listener a connection arrived on; set per connection, read per request.</summary>
internal sealed class ListenerFeature
{
    public ListenerFeature(int index, ListenerConfig config)
    {
        Index = index;
        Config = config;
        MaxRequestSize = config.EffectiveMaxRequestSize;
    }

    public int Index { get; }

    public ListenerConfig Config { get; }

    public long MaxRequestSize { get; }

    /// <summary>"listener 0 (tcp 127.0.0.1:8200)", for messages.</summary>
    public static string Describe(int index, ListenerConfig config) => config.Describe(index);
}
