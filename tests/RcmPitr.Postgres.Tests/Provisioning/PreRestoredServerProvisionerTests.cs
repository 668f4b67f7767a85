using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Provisioning;

public sealed class PreRestoredServerProvisionerTests
{
    private static readonly DbServerInfo Restored = new("pg-restored", "127.0.0.1", 5433, "admin", "admin-ref", 15);
    private static readonly DbServerInfo Live = new("pg-live", "127.0.0.1", 5432, "admin", "admin-ref", 15);

    [Fact]
    public async Task GetStorage_NotConfigured_IsUnknown()
    {
        var provisioner = new PreRestoredServerProvisioner(Restored, DateTimeOffset.MinValue);

        var storage = await provisioner.GetStorageAsync(Live, CancellationToken.None);

        Assert.Equal(ServerStorage.Unknown, storage);
    }

    [Fact]
    public async Task GetStorage_Configured_IsWhatWasConfigured()
    {
        var provisioner = new PreRestoredServerProvisioner(Restored, DateTimeOffset.MinValue, new ServerStorage(64L << 30, 20L << 30));

        var storage = await provisioner.GetStorageAsync(Live, CancellationToken.None);

        Assert.Equal(new ServerStorage(64L << 30, 20L << 30), storage);
    }
}
