using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Operations;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Host.Composition;

/// <summary>The embedded host's configuration (section <c>RcmPitr</c>). No secret values: only references into the secret store.</summary>
public sealed class RcmPitrOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RcmPitr";

    /// <summary>The JSON file of the local secret store (0600).</summary>
    public string SecretsFile { get; set; } = ".rcm-local/secrets.json";

    /// <summary>The platform's master database.</summary>
    public DatabaseEndpoint ControlPlane { get; set; } = new();

    /// <summary>
    /// Create the control-plane tables RcmPitr assumes at start-up (local environments and tests). Off by
    /// default: in production the platform owns the master database's schema.
    /// </summary>
    public bool MigrateControlPlane { get; set; }

    /// <summary>The engine's state database.</summary>
    public DatabaseEndpoint StateDatabase { get; set; } = new();

    /// <summary>
    /// The API's principals by name (the name is the principal's id, trimmed and case-folded): the SHA-256 of each one's
    /// key (<c>KeySha256</c>) and its <c>Roles</c> (requester and approver unless configured). Keys travel in
    /// <c>x-functions-key</c>, as Azure Functions' function keys do.
    /// </summary>
    public Dictionary<string, RcmPitr.Api.ApiKeyPrincipalOptions> Principals { get; set; } = [];

    /// <summary>
    /// Legacy, read for one release: plaintext API key → principal name (a key in configuration, and in an environment
    /// variable's name). Hashed at start-up, then emptied; a warning is logged. Use <see cref="Principals"/>.
    /// </summary>
    public Dictionary<string, string> ApiKeys { get; set; } = [];

    /// <summary>How many runs one principal may start within a window (10 an hour unless set; 0: no limit).</summary>
    public RcmPitr.Api.StartRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>The links the API returns (<c>RcmPitr:Links:PublicBaseUrl</c>).</summary>
    public RcmPitr.Api.ApiLinkOptions Links { get; set; } = new();

    /// <summary>Where run notifications go (<c>RcmPitr:Notifications</c>); without targets they are only logged.</summary>
    public Activities.Notifications.NotificationOptions Notifications { get; set; } = new();

    /// <summary>How the restored server is obtained.</summary>
    public ProvisionerOptions Provisioner { get; set; } = new();

    /// <summary>Dump / restore settings.</summary>
    public DataMoverOptions DataMover { get; set; } = new();

    /// <summary>The post-cutover "customer can sign in" probe (<c>RcmPitr__SmokeProbe__Role</c>, <c>__PasswordSecret</c>, <c>__Query</c>); off unless a role is set.</summary>
    public SmokeProbeOptions SmokeProbe { get; set; } = new();

    /// <summary>The change report before approval: sampled keys, time budget, parallelism (<c>RcmPitr:Changes</c>).</summary>
    public RcmPitr.Postgres.Changes.ChangeReportOptions Changes { get; set; } = new();

    /// <summary>Connection settings for tenant servers.</summary>
    public PgConnectionOptions Connections { get; set; } = new();

    /// <summary>Engine loop settings.</summary>
    public Engine.Hosting.EngineOptions Engine { get; set; } = new();

    /// <summary>Default timings of runs (runbook defaults unless set).</summary>
    public Workflow.Restores.RestoreSettings Restore { get; set; } = new();

    /// <summary>Batches: members moving at once (<c>Parallelism</c>) and how often a batch looks at them (<c>PollInterval</c>).</summary>
    public Workflow.Batches.BatchSettings Batch { get; set; } = new();

    /// <summary>
    /// When restore drills run: a cron expression in UTC, six fields with seconds (as the Functions timer's <c>DryRunSchedule</c>)
    /// or five, e.g. the runbook's quarterly <c>0 0 6 1 1,4,7,10 *</c>; empty turns the scheduler off. Null: the top-level
    /// <c>DryRunSchedule</c>, else off (a drill provisions restored servers, so the embedded host drills only when told to).
    /// </summary>
    public string? DryRunSchedule { get; set; }

    /// <summary>Which tenants a drill takes (<c>Tenants</c>; none: every tenant) and how far back it restores (<c>RestorePointAge</c>).</summary>
    public RcmPitr.Api.Drills.DrillScheduleOptions DryRun { get; set; } = new();

    /// <summary>How drills judge the as-of copy: <c>MinRatioToPrevious</c> and <c>Expectations</c>.</summary>
    public Workflow.Drills.DrillOptions Drills { get; set; } = new();
}

/// <summary>The provisioner the host uses.</summary>
public sealed class ProvisionerOptions
{
    /// <summary>
    /// <c>LocalWal</c>: real point-in-time restore of the local environment's live cluster from base backup + WAL
    /// (<see cref="Local.LocalWalProvisioner"/>); <c>PreRestored</c>: a server that already holds the state at T
    /// (see <see cref="Postgres.Provisioning.PreRestoredServerProvisioner"/>).
    /// </summary>
    public string Kind { get; set; } = "PreRestored";

    /// <summary>For <c>LocalWal</c>: the local environment's home folder.</summary>
    public string LocalHome { get; set; } = Local.LocalLayout.DefaultHome;

    /// <summary>For <c>LocalWal</c>: how often the host takes a base backup (zero: never; <c>rcm-pitr local backup</c> takes one by hand).</summary>
    public TimeSpan BackupInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>For <c>LocalWal</c>: backups older than this are pruned (the newest is always kept) — the local retention window.</summary>
    public TimeSpan BackupRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>For <c>PreRestored</c>: the server.</summary>
    public DbServerInfo? Server { get; set; }

    /// <summary>For <c>PreRestored</c>: the earliest time it may stand for.</summary>
    public DateTimeOffset EarliestRestoreTime { get; set; } = DateTimeOffset.MinValue;

    /// <summary>For <c>PreRestored</c>: the live server's storage, when known (preflight weighs a copy against it); unknown if unset.</summary>
    public Postgres.Provisioning.ServerStorage? LiveStorage { get; set; }
}
