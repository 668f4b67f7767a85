using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>Settings of the dump / restore steps, read from the host's configuration.</summary>
public sealed class DataMoverOptions
{
    /// <summary>
    /// Where dumps are written, one 0700 folder per run. Dumps carry PHI: keep this on encrypted, private storage. It
    /// must be a folder of this process's user, no symbolic link, writable by nobody else (checked before every write;
    /// created 0700 when missing). Default: <c>~/.local/share/rcm-pitr/scratch</c> (the user's application data),
    /// else <c>&lt;temp&gt;/rcm-pitr-scratch-&lt;uid&gt;</c>.
    /// </summary>
    public string ScratchDirectory { get; set; } = DefaultScratchDirectory();

    /// <summary>
    /// Set only when <see cref="ScratchDirectory"/> is a network share whose owner and modes are fixed by its mount
    /// (Azure Files over SMB), where they cannot be checked: access is then whoever holds the share's key. A symbolic
    /// link is still refused.
    /// </summary>
    public bool ScratchIsSharedMount { get; set; }

    /// <summary>Free scratch space required, as a multiple of the tenant database's size (runbook: 2×).</summary>
    public double ScratchSafetyFactor { get; set; } = 2.0;

    /// <summary>Room a copy of the tenant database needs on the live server, as a multiple of the database's size.</summary>
    public double LiveCopySizeFactor { get; set; } = 1.2;

    /// <summary>
    /// Share of the live server's storage that must stay free after the copy (percent): a full Flexible Server turns
    /// read-only for every tenant on it (Azure does so near 95 % full).
    /// </summary>
    public double LiveStorageHeadroomPercent { get; set; } = 15;

    /// <summary>
    /// Starts of one long step (dump, load, transfer) of a run that may end without ever finishing — aborted by the host, e.g.
    /// at Azure Functions' <c>functionTimeout</c> — before the next start is refused instead of run (see
    /// <see cref="ControlPlane.StepStartLedger"/>). A failure that ends the step does not count.
    /// </summary>
    public int MaxAbortedStarts { get; set; } = 3;

    /// <summary>As-of snapshot copies kept on one live server at most; a snapshot beyond it is refused until one is dropped.</summary>
    public int MaxSnapshotsPerServer { get; set; } = 10;

    /// <summary><c>pg_dump -Z</c> level (runbook: 6).</summary>
    public int CompressionLevel { get; set; } = 6;

    /// <summary><c>pg_restore --jobs</c> (runbook: 1).</summary>
    public int RestoreJobs { get; set; } = 1;

    /// <summary><c>maintenance_work_mem</c> of the loading sessions (index and constraint builds), in MB.</summary>
    public int RestoreMaintenanceWorkMemMb { get; set; } = 256;

    /// <summary>
    /// <c>maintenance_work_mem</c> of GIN index builds in the streaming transfer, in MB. Measured on this project's
    /// 2-core benchmark machine (PostgreSQL 15, jsonb_ops over 1.56 M rows, single-threaded, medians of quiet runs):
    /// the benchmark's payloads (a unique hash in each) 9.4 s at 4 MB, 9.7 s at 16 MB, 10.9 s at 64 MB, 12.9 s at
    /// 256 MB; claims-like payloads whose values repeat 28.0 s at 1 MB, 22.8 s at 2 MB, 20.4 s at 4 MB, 19.5 s from
    /// 16 to 256 MB; the same with a unique claim number in each 41.1 s at 1 MB, 30.6 s at 4 MB, 33.1 s at 16 MB,
    /// 35.2 s at 256 MB. 16 MB is within 3–8 % of the best everywhere, away from the steep loss below 4 MB and from the
    /// loss of large settings on unique values; B-tree builds get faster with more memory, so the two are set apart.
    /// </summary>
    public int GinMaintenanceWorkMemMb { get; set; } = 16;

    /// <summary>
    /// How much the streaming transfer slows its copies while a GIN index build runs beside them — a paced copy waits this
    /// multiple of its working time after every 4 MB — and only while the copying and builds left still end well before
    /// the GIN build's estimated end (see <c>CopyPacer</c>). The single-threaded GIN build is the move's critical path on
    /// PostgreSQL 15; copies beside it lengthen it. 0, the default, turns pacing off: side by side on this project's
    /// benchmark, neither 0.5 nor 0.8 made the move faster (medians 16.2 s paced by 0.5, 15.3 s not; 20.8 s paced by 0.8,
    /// 21.3 s not; 2026-12-03).
    /// </summary>
    public double PaceCopiesBesideGin { get; set; }

    /// <summary>
    /// The nice (1–19; 0 turns it off) this process's session takes while the streaming transfer builds a GIN index on a
    /// target server of this same machine (a loopback or Unix-socket host; never on Azure, where the servers are other
    /// machines), set back when no GIN build is left. The single-threaded GIN build is the move's critical path on
    /// PostgreSQL before 18, and the copies it runs beside relay through this process; under Linux's autogroup scheduling
    /// a session's processes share the CPU as one, so only the session's nice lets the relay step back (see
    /// <c>CpuYield</c>). Side by side on this project's 2-vCPU benchmark (1 GB, five runs of 3 rounds, 2026-12-03 and -04):
    /// faster in 14 of the 15 rounds (median gain 1.3 s); by medians 14.2 s against 16.3 s and 13.3 against 13.9 s in the
    /// last two runs, 21.1 against 20.5 s in the one run where it was not faster.
    /// </summary>
    public int YieldCpuBesideGin { get; set; } = 19;

    /// <summary>Throws when a setting is out of its range, naming it as configured.</summary>
    public void Validate()
    {
        if (YieldCpuBesideGin is < 0 or > 19)
        {
            throw new ArgumentOutOfRangeException(nameof(YieldCpuBesideGin), YieldCpuBesideGin, "DataMover:YieldCpuBesideGin must be 0 (off) to 19.");
        }

        if (!(PaceCopiesBesideGin is >= 0 and <= 10))
        {
            throw new ArgumentOutOfRangeException(nameof(PaceCopiesBesideGin), PaceCopiesBesideGin, "DataMover:PaceCopiesBesideGin must be 0 (off) to 10.");
        }
    }

    /// <summary>
    /// The streaming transfer copies a table at least this big (MB of heap) in page ranges side by side, when it also
    /// holds a good share of the data and the source runs PostgreSQL 14 or later (which scans a ctid range directly).
    /// </summary>
    public int SplitTablesFromMb { get; set; } = 64;

    /// <summary>
    /// A transfer whose counters (tables, bytes, COPY and index-build progress on either server) have not moved and
    /// whose sessions have done no work for this long is stopped as stalled, and the step fails (and is retried)
    /// instead of hanging. <see cref="TimeSpan.Zero"/> turns stall detection off.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a transfer's progress is sampled, written for the status API and checked for a stall.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Parallel jobs of the parallel and streaming transfers; 0 sizes them to this machine's cores.</summary>
    public int TransferJobs { get; set; }

    /// <summary>The default <see cref="ScratchDirectory"/>.</summary>
    public static string DefaultScratchDirectory()
    {
        var data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return string.IsNullOrEmpty(data)
            ? Path.Combine(Path.GetTempPath(), "rcm-pitr-scratch-" + Connections.UnixFileStatus.EffectiveUserId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : Path.Combine(data, "rcm-pitr", "scratch");
    }

    /// <summary>The folder of one run's scratch files.</summary>
    public string RunDirectory(string runId) => Path.Combine(ScratchDirectory, runId);

    /// <summary>
    /// The runbook dump of one run (deterministic: a re-run overwrites, never duplicates). Computed from validated
    /// names, so a step loading a dump never takes the path from its input.
    /// </summary>
    public string DumpPath(string runId, TenantSlug slug, RestoreStamp stamp)
    {
        ArgumentNullException.ThrowIfNull(slug);
        ArgumentNullException.ThrowIfNull(stamp);
        return Path.Combine(RunDirectory(RunIds.Require(runId)), $"rcm-restore-{slug.Value}-{stamp.Value}.dump");
    }
}
