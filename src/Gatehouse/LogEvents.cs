namespace Gatehouse;

/// <summary>
/// Every log event id, once: each <c>[LoggerMessage]</c> names its constant here, so no two events share an id and an
/// operator filtering by id finds one event. Each area has its own range; a new event takes the next free id of its area.
/// </summary>
internal static class LogEvents
{
    // AutoAuth/: 1000–1199
    public const int AuthHandlerAuthenticated = 1001;
    public const int AuthHandlerLoginFailed = 1002;
    public const int AuthHandlerLoginFailedExiting = 1003;
    public const int AuthHandlerRenewed = 1004;
    public const int AuthHandlerRenewFailed = 1005;
    public const int AuthHandlerRenewRejected = 1006;
    public const int AuthHandlerRenewGaveUp = 1007;
    public const int AuthHandlerReauthExpiring = 1008;
    public const int AuthHandlerNotRenewing = 1009;
    public const int AuthHandlerNotRenewable = 1010;
    public const int AuthHandlerRejectedByProxy = 1011;
    public const int AuthHandlerBatchToken = 1012;
    public const int AuthHandlerPreloadedRejected = 1013;
    public const int AuthHandlerPreloadedAdopted = 1014;
    public const int AuthHandlerRejectionNotConfirmed = 1015;
    public const int AuthHandlerPreloadedUnconfirmed = 1016;
    public const int AuthHandlerRestoredExpired = 1017;
    public const int AuthHandlerVaultBack = 1018;
    public const int AppRoleMethodUsingCachedValue = 1101;
    public const int AppRoleMethodWrappingPathMismatch = 1102;
    public const int AppRoleMethodRemoveFailed = 1103;
    public const int TokenFileMethodUsingCachedToken = 1111;
    public const int JwtMethodReadFailed = 1121;
    public const int JwtMethodRemoveFailed = 1122;
    public const int VaultRecoveryNotReady = 1123;
    public const int VaultRecoveryVaultReady = 1124;
    public const int LdapMethodReadFailed = 1141;
    public const int LdapMethodEmptyFile = 1142;
    public const int LdapMethodRemoveFailed = 1143;
    public const int LdapMethodLineEnding = 1144;
    public const int AwsMethodPollFailed = 1151;
    public const int AwsMethodNewCredentials = 1152;
    public const int AuthHandlerNewCredentials = 1153;
    public const int AlicloudMethodPollFailed = 1171;
    public const int AlicloudMethodNewCredentials = 1172;
    public const int FleetLeading = 1161;
    public const int FleetFollowing = 1162;
    public const int FleetLocal = 1163;
    public const int FleetAdopted = 1164;
    public const int FleetTookOver = 1165;
    public const int FleetLeaseLost = 1166;
    public const int FleetStaleWriteRefused = 1167;
    public const int FleetRejectionReported = 1168;
    public const int FleetOtherKeyIds = 1169;
    public const int OciMethodPollFailed = 1181;
    public const int OciMethodNewCredentials = 1182;
    public const int OciMethodNewSecurityToken = 1183;

    // Sinks/: 1200–1299
    public const int SinkWriterWritten = 1201;
    public const int SinkWriterWriteFailed = 1202;
    public const int SinkServerNewToken = 1211;
    public const int SinkServiceExitAfterAuth = 1221;

    // ApiProxy/: 2000–2999
    public const int ProxyHandlerProxied = 2001;
    public const int ProxyHandlerFailed = 2002;
    public const int ProxyHandlerRedacted = 2003;
    public const int UpstreamFailureLogFailed = 2004;
    public const int UpstreamFailureLogCounted = 2005;
    public const int VaultForwarderRetryingStatus = 2006;
    public const int VaultForwarderRetryingError = 2007;
    public const int VaultForwarderFollowingRedirect = 2008;
    public const int WrappingDiscarderDiscarded = 2009;
    public const int WrappingDiscarderDiscardFailed = 2010;
    public const int ProxyHandlerPathRefused = 2011;

    // Cache/: 3000–3999
    public const int LeaseCacheCached = 3001;
    public const int LeaseCacheNotCached = 3002;
    public const int LeaseCacheRevoked = 3003;
    public const int LeaseCacheRestoredRefused = 3004;
    public const int LeaseCacheFull = 3005;
    public const int CachePersistenceDisabled = 3006;
    public const int CachePersistenceUnreadable = 3007;
    public const int CachePersistenceRestored = 3008;
    public const int CachePersistenceParentMissing = 3009;
    public const int CachePersistenceDeletedAfterImport = 3010;
    public const int CacheStoreFileRecordUnreadable = 3011;
    public const int CacheStoreFileRecordsDamaged = 3012;
    public const int CacheStoreFileWriteFailed = 3013;
    public const int CacheStoreFileCompacted = 3014;
    public const int CacheStoreFileRewriteFailed = 3019;
    public const int CacheStoreFileTempNotDeleted = 3020;
    public const int RenewerRenewalRefused = 3015;
    public const int RenewerRenewalFailed = 3016;
    public const int RenewerRenewalGaveUp = 3017;
    public const int RenewerRenewalCrashed = 3018;

    // Cache/SharedEntries: 3050–3069 (the shared cache's entries, cache { shared "redis" })
    public const int SharedEntriesImported = 3050;
    public const int SharedEntriesDropped = 3051;
    public const int SharedEntriesApplied = 3052;
    public const int SharedEntriesCorrupt = 3053;
    public const int SharedEntriesPendingDropped = 3054;

    // Cache/Static/SharedStaticSecrets: 3070–3089 (static secrets shared by the fleet, cache { shared "redis" })
    public const int SharedStaticImported = 3070;
    public const int SharedStaticDropped = 3071;
    public const int SharedStaticCorrupt = 3072;

    // Cache/Static/: 3100–3199
    public const int StaticSecretCacheCached = 3101;
    public const int StaticSecretCacheEvicted = 3102;
    public const int StaticSecretCacheGrantRevoked = 3103;
    public const int StaticSecretCacheTokenDropped = 3104;
    public const int StaticSecretCacheRevalidated = 3105;
    public const int StaticSecretCachePassFailed = 3106;
    // Cache/Static/KvEventSubscriber: 3110–3119 (Cache/Static/ has 3100–3199)
    public const int KvEventSubscriberConnected = 3110;
    public const int KvEventSubscriberLost = 3111;
    public const int KvEventSubscriberUnavailable = 3112;
    public const int KvEventSubscriberConnectFailed = 3113;
    public const int KvEventSubscriberFrameSkipped = 3114;
    public const int KvEventSubscriberKvChanged = 3115;
    public const int KvEventSubscriberTokenChanged = 3116;
    public const int KvEventSubscriberFailed = 3117;
    public const int KvEventSubscriberListenerFailed = 3118;

    // Listeners/: 4000–4999
    public const int RequestDispatcherQuitRequested = 4001;

    // Hosting/: 5000–5999
    public const int ConfigReloaderReloading = 5001;
    public const int ConfigReloaderReloadProblem = 5002;
    public const int ConfigReloaderReloadRejected = 5003;
    public const int ConfigReloaderReloaded = 5004;
    public const int ConfigReloaderListenersNeedRestart = 5005;
    public const int ConfigReloaderNothingToReload = 5006;
    public const int ConfigReloaderSettingsNotApplied = 5007;
    public const int GatehouseHostBuilderTelemetryWarning = 5008;
    public const int GatehouseHostBuilderStartupFailed = 5009;
    public const int MemoryTrimmerTrimmed = 5010;
    public const int GatehouseHostShutdownTriggered = 5050;
    public const int GatehouseHostShutdownComplete = 5051;
    public const int GatehouseHostRuntimeError = 5052;

    // Shared/: 7000–7099
    public const int SharedStoreUp = 7001;
    public const int SharedStoreDown = 7002;
    public const int SharedStoreOtherKey = 7003;
    public const int SharedStoreCorrupt = 7004;
    public const int SharedEntriesNotListening = 7010;
    public const int SharedEntriesListening = 7011;

    // Telemetry/: 6000–6099
    public const int PushSinkSendFailed = 6001;
    public const int PushSinkSendingAgain = 6002;
}
