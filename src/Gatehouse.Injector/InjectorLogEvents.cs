namespace Gatehouse.Injector;

/// <summary>
/// The injector's log event ids: 9000–9999, a range the daemon's <c>Gatehouse.LogEvents</c> table does not use
/// (that table's test requires each of its ids to be used in the daemon's assembly, so the injector keeps its own
/// table; <c>InjectorLogEventsTests</c> holds the same rule here).
/// </summary>
internal static class InjectorLogEvents
{
    public const int Injected = 9001;
    public const int Refused = 9002;
    public const int AlreadyInjected = 9003;
    public const int CertificateLoaded = 9011;
    public const int CertificateReloadFailed = 9012;
    public const int Listening = 9021;
}
