using Gatehouse.AutoAuth;
using Gatehouse.Cache.Persistence;
using Gatehouse.Hosting;
using Gatehouse.Hosting.Logging;
using Gatehouse.Listeners;
using Gatehouse.Sinks;
using Gatehouse.Vault;

namespace Gatehouse.Tests.Hosting;

/// <summary>Each exception start-up may throw has its one line on stderr; anything else (a bug) still gets one.</summary>
public sealed class StartupFailureTests
{
    public static TheoryData<Exception, string> Failures => new()
    {
        { new ListenerStartupException("listener 0 (tcp 127.0.0.1:8200): bind: Address already in use"), "Error starting listener: listener 0 (tcp 127.0.0.1:8200): bind: Address already in use" },
        { new AutoAuthConfigException("auth handler: min_backoff"), "Error creating auth method: auth handler: min_backoff" },
        { new SinkStartupException("error creating file sink: error during write check: x"), "error creating file sink: error during write check: x" },
        { new CachePersistException("cache.persist \"file\": bad key"), "Error restoring the persistent cache: cache.persist \"file\": bad key" },
        { new LogFileException("log file \"/x.log\": denied", new IOException("denied")), "Error opening log file \"/x.log\": denied" },
        { new VaultTlsFileException("cannot load vault.ca_cert \"/ca.pem\": gone", new IOException("gone")), "Error creating the Vault client: cannot load vault.ca_cert \"/ca.pem\": gone" },
        { new AggregateException(new ListenerStartupException("listener 1 (unix /s): x")), "Error starting listener: listener 1 (unix /s): x" },
        { new InvalidOperationException("a bug"), "Error starting Gatehouse: InvalidOperationException: a bug (the debug log, -log-level=debug, has the details)" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Describe_GivesOneLine(Exception exception, string expected)
    {
        var line = StartupFailure.Describe(exception);

        Assert.Equal(expected, line);
        Assert.DoesNotContain('\n', line);
    }
}
