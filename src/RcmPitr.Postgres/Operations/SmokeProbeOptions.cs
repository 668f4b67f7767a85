namespace RcmPitr.Postgres.Operations;

/// <summary>
/// The post-cutover "customer can sign in" check of the runbook's validation: after the cutover, the verify step
/// connects to the tenant's database as the application role and runs a read-only query. Off unless
/// <see cref="Role"/> is set. Settings: <c>RcmPitr:SmokeProbe:*</c> on the embedded host (environment
/// <c>RcmPitr__SmokeProbe__Role</c>, …), <c>SmokeProbe:*</c> on the Functions app (<c>SmokeProbe__Role</c>, …).
/// </summary>
public sealed class SmokeProbeOptions
{
    /// <summary>The placeholder replaced by the tenant's database name in <see cref="Role"/> and <see cref="PasswordSecret"/>.</summary>
    public const string DatabasePlaceholder = "{database}";

    /// <summary>The LOGIN role the application connects as (may contain <c>{database}</c>). Null or empty: no probe.</summary>
    public string? Role { get; set; }

    /// <summary>The secret store's name of that role's password (may contain <c>{database}</c>). Required with <see cref="Role"/>.</summary>
    public string? PasswordSecret { get; set; }

    /// <summary>The query the probe runs, in a read-only transaction; its rows are read and discarded. Default <c>SELECT 1</c>.</summary>
    public string Query { get; set; } = "SELECT 1";

    /// <summary>Seconds the query may take.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Whether the probe runs.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Role);
}
