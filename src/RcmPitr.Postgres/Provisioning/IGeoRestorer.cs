using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Provisioning;

/// <summary>
/// Region loss: restores a lost server from its geo-redundant backup as a NEW server — Azure's <c>createMode: GeoRestore</c> in
/// the paired region, or the newest local base backup plus the whole WAL archive into a new local cluster. It brings back the
/// latest backup the platform holds, never a point in time, and works when the source is gone. Idempotent by server name; it
/// never touches the source.
/// </summary>
public interface IGeoRestorer
{
    /// <summary>Starts the geo-restore, or finds the one already requested under that name for that source.</summary>
    Task<GeoRestoreResult> StartGeoRestoreAsync(GeoRestoreInput input, CancellationToken cancellationToken);

    /// <summary>The geo-restored server's state; once Ready, how to reach it and what it holds.</summary>
    Task<GeoRestoreState> GetGeoRestoreStateAsync(GetServerStateInput input, CancellationToken cancellationToken);
}
