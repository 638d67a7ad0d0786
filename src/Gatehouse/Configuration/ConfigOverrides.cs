namespace Gatehouse.Configuration;

/// <summary>
/// Values given on the command line. Null means "flag not given"; a given flag beats the environment, which beats
/// the files, which beat the defaults (Vault's precedence).
/// </summary>
internal sealed record ConfigOverrides
{
    public static readonly ConfigOverrides None = new();

    public string? Address { get; init; }

    public string? CaCert { get; init; }

    public string? CaPath { get; init; }

    public string? ClientCert { get; init; }

    public string? ClientKey { get; init; }

    public bool? TlsSkipVerify { get; init; }

    public string? TlsServerName { get; init; }

    public string? Namespace { get; init; }

    public string? LogLevel { get; init; }

    public string? LogFormat { get; init; }

    public string? LogFile { get; init; }

    public long? LogRotateBytes { get; init; }

    public TimeSpan? LogRotateDuration { get; init; }

    public int? LogRotateMaxFiles { get; init; }

    /// <summary>Overrides the config only when given (Vault: "-exit-after-auth" wins only if set).</summary>
    public bool? ExitAfterAuth { get; init; }
}
