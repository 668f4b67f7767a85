using Azure.Security.KeyVault.Secrets;
using RcmPitr.Azure.Arm;
using RcmPitr.Azure.KeyVault;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Azure.Tests;

/// <summary>The real Azure.ResourceManager client against the HTTPS loopback stand-in.</summary>
public sealed class AzureFlexibleServerProvisionerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Earliest = new(2026, 4, 15, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset RestoreTime = new(2026, 4, 22, 14, 30, 0, TimeSpan.Zero);
    private readonly StaticTokenCredential _credential = new();
    private AzureStandIn _standIn = null!;
    private AzureFlexibleServerProvisioner _provisioner = null!;
    private DbServerInfo _source = null!;

    public async ValueTask InitializeAsync()
    {
        _standIn = await AzureStandIn.StartAsync();
        _standIn.AddSourceServer("pg-us-east-1", Earliest);
        _provisioner = Provisioner(geoLocation: null);
        _source = new DbServerInfo("pg-us-east-1", "pg-us-east-1.postgres.database.azure.com", 5432, "rcmadmin", "pg-us-east-1-admin", 17);
    }

    [Fact]
    public async Task Provision_PointInTime_PutsTheRestoreStartedNotAwaitedAndPollsToReady()
    {
        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604221430", RestoreTime), CancellationToken.None);
        var first = await _provisioner.GetStateAsync(new GetServerStateInput(_source, "pg-us-east-1-pitr-202604221430"), CancellationToken.None);
        var second = await _provisioner.GetStateAsync(new GetServerStateInput(_source, "pg-us-east-1-pitr-202604221430"), CancellationToken.None);

        Assert.Equal(ServerState.Provisioning, started.State);
        Assert.False(started.AlreadyExisted);
        Assert.Equal(ServerState.Provisioning, first.State);
        Assert.Equal(ServerState.Ready, second.State);
        Assert.Equal("pg-us-east-1-pitr-202604221430.postgres.database.azure.com", second.Server!.Fqdn);
        Assert.Equal("pg-us-east-1-admin", second.Server.AdminSecretRef);
        var created = _standIn.Servers["pg-us-east-1-pitr-202604221430"];
        Assert.Equal("PointInTimeRestore", created.Properties["createModeSeen"]!.GetValue<string>());
        Assert.Equal("2026-04-22T14:30:00.0000000Z", created.Properties["pointInTimeSeen"]!.GetValue<string>());
        Assert.Equal("run-1", created.Tags[AzureFlexibleServerProvisioner.RunTag]);
        Assert.All(_standIn.Requests.Where(r => r.Contains("flexibleServers", StringComparison.Ordinal)), r => Assert.Contains("api-version=2025-08-01", r, StringComparison.Ordinal));
        Assert.DoesNotContain(_standIn.Requests, r => r.EndsWith("/providers/Microsoft.DBforPostgreSQL", StringComparison.Ordinal) || r.Contains("/providers/Microsoft.DBforPostgreSQL?", StringComparison.Ordinal));
        // Started, not awaited: the orchestrator polls the state on durable timers; nobody polls the LRO.
        Assert.DoesNotContain(_standIn.Requests, r => r.Contains("azureAsyncOperation", StringComparison.Ordinal) || r.Contains("operationResults", StringComparison.Ordinal));
        Assert.Contains("https://management.azure.com//.default", _credential.Scopes);
    }

    [Fact]
    public async Task Provision_SameNameAndTimeAgain_ReusesTheServer()
    {
        var input = new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604221430", RestoreTime);
        await _provisioner.ProvisionAsync(input, CancellationToken.None);

        var again = await _provisioner.ProvisionAsync(input with { RunId = "run-1-retry" }, CancellationToken.None);

        Assert.True(again.AlreadyExisted);
        Assert.Single(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Provision_ExistingServerWithAnotherTime_IsRefused()
    {
        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604221430", RestoreTime), CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidRestoreInputException>(() =>
            _provisioner.ProvisionAsync(new ProvisionServerInput("run-2", _source, "pg-us-east-1-pitr-202604221430", RestoreTime.AddSeconds(20)), CancellationToken.None));

        Assert.Contains("already exists, restored to 2026-04-22T14:30:00", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provision_ServerNotCreatedByRcmPitr_IsNeitherReusedNorDeleted()
    {
        _standIn.AddSourceServer("pg-us-east-1-pitr-202604221430", Earliest);

        await Assert.ThrowsAsync<InvalidRestoreInputException>(() =>
            _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604221430", RestoreTime), CancellationToken.None));
        await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            _provisioner.DeleteAsync(new DeleteServerInput(_source, "pg-us-east-1-pitr-202604221430"), CancellationToken.None));

        Assert.True(_standIn.Servers.ContainsKey("pg-us-east-1-pitr-202604221430"));
    }

    [Fact]
    public async Task Provision_TimeBeforeRetention_IsRefusedWithTheEarliestPoint()
    {
        var error = await Assert.ThrowsAsync<InvalidRestoreInputException>(() =>
            _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604100000", Earliest.AddDays(-5)), CancellationToken.None));

        Assert.Equal("restoreTime", error.Field);
        Assert.Contains("2026-04-15", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
        Assert.Equal(Earliest, await _provisioner.GetEarliestRestoreTimeAsync(_source, CancellationToken.None));
    }

    [Fact]
    public async Task Provision_TimeBeforeRetentionWithGeoBackup_GeoRestoresInThePairedRegion()
    {
        _standIn.AddSourceServer("pg-us-east-1", Earliest, geoRedundant: true);
        var provisioner = Provisioner(geoLocation: "westus");

        await provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604100000", Earliest.AddDays(-5)), CancellationToken.None);

        var created = _standIn.Servers["pg-us-east-1-pitr-202604100000"];
        Assert.Equal("GeoRestore", created.Properties["createModeSeen"]!.GetValue<string>());
        Assert.Equal("westus", created.Location);
    }

    [Fact]
    public async Task Requests_ThrottledAndFailing_AreRetriedHonouringRetryAfter()
    {
        _standIn.EnqueueFault(429, retryAfter: "1");
        _standIn.EnqueueFault(500);
        _standIn.EnqueueFault(503);

        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604221430", RestoreTime), CancellationToken.None);

        Assert.Equal(ServerState.Provisioning, started.State);
        Assert.True(_standIn.Servers.ContainsKey("pg-us-east-1-pitr-202604221430"));
    }

    [Fact]
    public async Task Requests_FailingBeyondTheAttempts_SurfaceTheArmError()
    {
        for (var i = 0; i < 5; i++)
        {
            _standIn.EnqueueFault(500);
        }

        var error = await Assert.ThrowsAsync<global::Azure.RequestFailedException>(() =>
            _provisioner.GetStateAsync(new GetServerStateInput(_source, "pg-us-east-1-pitr-202604221430"), CancellationToken.None));

        Assert.Equal(500, error.Status);
    }

    [Fact]
    public async Task Delete_OwnServer_DeletesOnceThenReportsGone()
    {
        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604221430", RestoreTime), CancellationToken.None);

        var first = await _provisioner.DeleteAsync(new DeleteServerInput(_source, "pg-us-east-1-pitr-202604221430"), CancellationToken.None);
        var second = await _provisioner.DeleteAsync(new DeleteServerInput(_source, "pg-us-east-1-pitr-202604221430"), CancellationToken.None);
        var state = await _provisioner.GetStateAsync(new GetServerStateInput(_source, "pg-us-east-1-pitr-202604221430"), CancellationToken.None);

        Assert.True(first.Deleted);
        Assert.False(second.Deleted);
        Assert.Equal(ServerState.NotFound, state.State);
    }

    [Fact]
    public async Task Provision_BadServerName_IsRefusedBeforeAnyCall()
    {
        await Assert.ThrowsAsync<InvalidRestoreInputException>(() =>
            _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "PG_Bad_Name", RestoreTime), CancellationToken.None));

        Assert.Empty(_standIn.Requests);
    }

    [Fact]
    public async Task KeyVault_SecretStore_UsesTheChallengeFlowReadsWritesAndNamesOnlyTheReference()
    {
        var client = new SecretClient(_standIn.BaseUri, _credential, new SecretClientOptions
        {
            Transport = _standIn.Transport(),
            DisableChallengeResourceVerification = true,
        });
        var store = new KeyVaultSecretStore(client, TimeProvider.System);
        _standIn.Secrets["pg-us-east-1-admin"] = "s3cret";

        var value = await store.GetSecretAsync("pg-us-east-1-admin", CancellationToken.None);
        await store.SetSecretAsync("tenant-db-acme-202604221430", "Host=x;Database=tenant_acme_restore_202604221430", CancellationToken.None);
        var missing = await Assert.ThrowsAsync<KeyNotFoundException>(() => store.GetSecretAsync("nope", CancellationToken.None));

        Assert.Equal("s3cret", value);
        Assert.Equal("Host=x;Database=tenant_acme_restore_202604221430", _standIn.Secrets["tenant-db-acme-202604221430"]);
        Assert.Contains("'nope'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("https://vault.azure.net/.default", _credential.Scopes);
        Assert.Throws<ArgumentException>(() => store.GetSecretAsync("bad name!", CancellationToken.None).GetAwaiter().GetResult());
    }

    public async ValueTask DisposeAsync() => await _standIn.DisposeAsync();

    private AzureFlexibleServerProvisioner Provisioner(string? geoLocation)
    {
        var options = new AzureArmOptions
        {
            SubscriptionId = AzureStandIn.Subscription,
            ResourceGroup = AzureStandIn.ResourceGroup,
            Location = "eastus",
            GeoRestoreLocation = geoLocation,
            Endpoint = _standIn.BaseUri,
            Audience = "https://management.azure.com/",
            TransientBackoff = TimeSpan.FromMilliseconds(50),
        };
        return new AzureFlexibleServerProvisioner(ArmClientFactory.Create(_credential, options, _standIn.Transport()), options, TimeProvider.System);
    }
}
