using System.Text.Json.Nodes;
using Azure.Security.KeyVault.Secrets;
using RcmPitr.Azure.Arm;
using RcmPitr.Azure.KeyVault;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Azure.Tests;

/// <summary>The real Azure.ResourceManager client against the HTTPS loopback stand-in.</summary>
public sealed class AzureFlexibleServerProvisionerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Earliest = new(2026, 4, 15, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset RestoreTime = new(2026, 4, 22, 14, 30, 10, TimeSpan.Zero);
    private static readonly string Name = ServerNames.Pitr("pg-us-east-1", RestoreStamp.From(RestoreTime)); // pg-us-east-1-pitr-20260422143010
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
        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);
        var first = await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name, started.OperationUrl), CancellationToken.None);
        var second = await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name, started.OperationUrl), CancellationToken.None);

        Assert.Equal(ServerState.Provisioning, started.State);
        Assert.False(started.AlreadyExisted);
        Assert.Equal(ServerState.Provisioning, first.State);
        Assert.Equal(ServerState.Ready, second.State);
        Assert.Equal($"{Name}.postgres.database.azure.com", second.Server!.Fqdn);
        Assert.Equal("pg-us-east-1-admin", second.Server.AdminSecretRef);
        var created = _standIn.Servers[Name];
        Assert.Equal("PointInTimeRestore", created.Properties["createModeSeen"]!.GetValue<string>());
        Assert.Equal("2026-04-22T14:30:10.0000000Z", created.Properties["pointInTimeSeen"]!.GetValue<string>());
        Assert.Equal("run-1", created.Tags[AzureFlexibleServerProvisioner.RunTag]);
        Assert.All(_standIn.Requests.Where(r => r.Contains("flexibleServers", StringComparison.Ordinal)), r => Assert.Contains("api-version=2025-08-01", r, StringComparison.Ordinal));
        Assert.DoesNotContain(_standIn.Requests, r => r.EndsWith("/providers/Microsoft.DBforPostgreSQL", StringComparison.Ordinal) || r.Contains("/providers/Microsoft.DBforPostgreSQL?", StringComparison.Ordinal));
        // Started, not awaited: the provisioner hands back ARM's async operation, and the polls (on the orchestrator's durable
        // timers) read it beside the server.
        Assert.StartsWith($"{_standIn.BaseUri}subscriptions/{AzureStandIn.Subscription}/providers/Microsoft.DBforPostgreSQL/locations/eastus/azureAsyncOperation/", started.OperationUrl, StringComparison.Ordinal);
        Assert.Contains("https://management.azure.com//.default", _credential.Scopes);
    }

    [Fact]
    public async Task GetState_ServerNotVisibleRightAfterTheAcceptedPut_IsProvisioningWhileItsOperationRuns()
    {
        _standIn.NotFoundPollsAfterPut = 2;
        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);

        var hidden = await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name, started.OperationUrl), CancellationToken.None);
        var withoutOperation = await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name), CancellationToken.None);
        var visible = await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name, started.OperationUrl), CancellationToken.None);

        Assert.Equal(ServerState.Provisioning, hidden.State);
        Assert.Contains("not visible yet", hidden.Detail, StringComparison.Ordinal);
        Assert.Equal(ServerState.NotFound, withoutOperation.State); // without the operation only the orchestrator's grace helps
        Assert.Equal(ServerState.Provisioning, visible.State);
    }

    [Fact]
    public async Task GetState_RestoreFailedInAzure_ReportsArmsErrorCodeAndMessage()
    {
        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);
        _standIn.FailRestore(Name, "ServerRestoreFailed", "The restore to 2026-04-22T14:30:10Z failed: insufficient quota in eastus.");

        var status = await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name, started.OperationUrl), CancellationToken.None);

        Assert.Equal(ServerState.Failed, status.State);
        Assert.Contains("ServerRestoreFailed: The restore to 2026-04-22T14:30:10Z failed: insufficient quota in eastus.", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetState_OperationReadForbidden_SaysWhichRoleActionIsMissingInsteadOfWaitingAsNotFound()
    {
        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);
        _standIn.OperationStatusOverride = 403;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _provisioner.GetStateAsync(new GetServerStateInput(_source, Name, started.OperationUrl), CancellationToken.None));

        Assert.Contains("azureAsyncOperation", error.Message, StringComparison.Ordinal);
        Assert.Contains("403", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetState_OperationAnsweringAClientError_FailsWithArmsError()
    {
        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);
        _standIn.OperationStatusOverride = 400;

        var status = await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name, started.OperationUrl), CancellationToken.None);

        Assert.Equal(ServerState.Failed, status.State);
        Assert.Contains("OperationFailed: operation", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetState_OperationUrlOfAnotherHost_IsRefusedWithoutSendingTheToken()
    {
        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);
        _standIn.NotFoundPollsAfterPut = 0;
        _standIn.Servers.TryRemove(Name, out _);
        var before = _standIn.Requests.Count;

        var error = await Assert.ThrowsAsync<InvalidRestoreInputException>(() => _provisioner.GetStateAsync(
            new GetServerStateInput(_source, Name, "https://attacker.example/subscriptions/x/azureAsyncOperation/1?api-version=2025-08-01"), CancellationToken.None));

        Assert.Equal("operationUrl", error.Field);
        Assert.Equal(before + 1, _standIn.Requests.Count); // the server GET only
    }

    [Fact]
    public async Task Provision_SameNameAndTimeAgain_ReusesTheServer()
    {
        var input = new ProvisionServerInput("run-1", _source, Name, RestoreTime);
        await _provisioner.ProvisionAsync(input, CancellationToken.None);

        var again = await _provisioner.ProvisionAsync(input with { RunId = "run-1-retry" }, CancellationToken.None);

        Assert.True(again.AlreadyExisted);
        Assert.Single(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Provision_ExistingServerWithAnotherTime_IsRefusedWithoutAdvisingToDeleteIt()
    {
        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);

        // Names carry the second, so only a hand-made request can name one server with another time.
        var error = await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            _provisioner.ProvisionAsync(new ProvisionServerInput("run-2", _source, Name, RestoreTime.AddMilliseconds(200)), CancellationToken.None));

        Assert.Contains("created by RcmPitr for pg-us-east-1 restored to 2026-04-22T14:30:10", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("delete", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Single(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Provision_ServerNotCreatedByRcmPitr_IsNeitherReusedNorDeleted()
    {
        _standIn.AddSourceServer(Name, Earliest);

        var provision = await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None));
        await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            _provisioner.DeleteAsync(new DeleteServerInput(_source, Name), CancellationToken.None));

        Assert.Contains("not created by RcmPitr", provision.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("delete it", provision.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("remove it", provision.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(_standIn.Servers.ContainsKey(Name));
        Assert.DoesNotContain(_standIn.Requests, r => r.StartsWith("DELETE", StringComparison.Ordinal) || r.StartsWith("PUT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Delete_ServerTaggedForAnotherRun_IsDeletedBecauseOwnershipIsSourceAndTime()
    {
        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);

        // Shared servers: whichever run releases last deletes it, not necessarily the one that created it.
        var deleted = await _provisioner.DeleteAsync(new DeleteServerInput(_source, Name, RestoreTime), CancellationToken.None);

        Assert.True(deleted.Deleted);
        Assert.False(_standIn.Servers.ContainsKey(Name));
    }

    [Fact]
    public async Task Delete_ServerTaggedForAnotherTimeOrSource_IsRefusedAndKept()
    {
        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);
        var otherSecond = ServerNames.Pitr("pg-us-east-1", RestoreStamp.From(RestoreTime.AddSeconds(1)));
        _standIn.Servers[otherSecond] = _standIn.Servers[Name]; // tags say 14:30:10, the name says 14:30:11
        var otherSource = _source with { Name = "pg-us-east-2" };

        var wrongTime = await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            _provisioner.DeleteAsync(new DeleteServerInput(_source, Name, RestoreTime.AddMilliseconds(1)), CancellationToken.None));
        var wrongName = await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            _provisioner.DeleteAsync(new DeleteServerInput(_source, otherSecond), CancellationToken.None));
        var wrongSource = await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            _provisioner.DeleteAsync(new DeleteServerInput(otherSource, Name), CancellationToken.None));

        Assert.All([wrongTime, wrongName, wrongSource], e => Assert.Contains("it is not deleted for this request", e.Message, StringComparison.Ordinal));
        Assert.True(_standIn.Servers.ContainsKey(Name));
        Assert.True(_standIn.Servers.ContainsKey(otherSecond));
        Assert.DoesNotContain(_standIn.Requests, r => r.StartsWith("DELETE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Provision_ServerBeingDropped_FailsRetryablyInsteadOfReusingIt()
    {
        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);
        _standIn.Servers[Name].Properties["state"] = "Dropping";

        var error = await Assert.ThrowsAsync<ServerBeingDeletedException>(() =>
            _provisioner.ProvisionAsync(new ProvisionServerInput("run-2", _source, Name, RestoreTime), CancellationToken.None));
        var deleteAgain = await _provisioner.DeleteAsync(new DeleteServerInput(_source, Name, RestoreTime), CancellationToken.None);

        Assert.IsNotAssignableFrom<RcmPitrException>(error); // not a refusal: a retry once it is gone creates it anew
        Assert.Contains("Dropping", error.Message, StringComparison.Ordinal);
        Assert.True(deleteAgain.Deleted);
        Assert.Single(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
        Assert.DoesNotContain(_standIn.Requests, r => r.StartsWith("DELETE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Provision_TimeBeforeRetention_IsRefusedWithTheEarliestPoint()
    {
        var error = await Assert.ThrowsAsync<InvalidRestoreInputException>(() =>
            _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-202604100000", Earliest.AddDays(-5)), CancellationToken.None));

        Assert.Equal("restoreTime", error.Field);
        Assert.Contains("backup.earliestRestoreDate 2026-04-15T00:00:00", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
        Assert.Equal(Earliest, await _provisioner.GetEarliestRestoreTimeAsync(_source, CancellationToken.None));
    }

    [Fact]
    public async Task Provision_TimeBeforeRetentionWithGeoBackupConfigured_IsRefusedNeverGeoRestored()
    {
        // A geo-restore brings back the latest geo-backup (about an hour old), not T: it must never stand in for T.
        _standIn.AddSourceServer("pg-us-east-1", Earliest, geoRedundant: true);
        var provisioner = Provisioner(geoLocation: "westus");

        var error = await Assert.ThrowsAsync<InvalidRestoreInputException>(() =>
            provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, "pg-us-east-1-pitr-20260410000000", Earliest.AddDays(-5)), CancellationToken.None));

        Assert.Equal("restoreTime", error.Field);
        Assert.Contains("backup.earliestRestoreDate 2026-04-15T00:00:00", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
        Assert.False(_standIn.Servers.ContainsKey("pg-us-east-1-pitr-20260410000000"));
    }

    [Fact]
    public async Task GeoRestore_Explicit_RestoresTheLatestGeoBackupInThePairedRegionAndRecreatesTheFirewallRules()
    {
        const string geoName = "pg-us-east-1-geo-20260422";
        _standIn.AddSourceServer("pg-us-east-1", Earliest, geoRedundant: true);
        _standIn.Servers["pg-us-east-1"].FirewallRules["office"] = ("203.0.113.0", "203.0.113.255");
        _standIn.Servers["pg-us-east-1"].FirewallRules["functions-outbound"] = ("198.51.100.7", "198.51.100.7");
        var provisioner = Provisioner(geoLocation: "westus");

        var started = await provisioner.StartGeoRestoreAsync(new GeoRestoreInput("run-dr", _source, geoName), CancellationToken.None);
        var early = await provisioner.ApplyFirewallRulesAsync(_source, geoName, CancellationToken.None);
        ServerStatus status;
        do
        {
            status = await provisioner.GetStateAsync(new GetServerStateInput(_source, geoName, started.OperationUrl), CancellationToken.None);
        }
        while (status.State == ServerState.Provisioning);
        var applied = await provisioner.ApplyFirewallRulesAsync(_source, geoName, CancellationToken.None);
        var again = await provisioner.ApplyFirewallRulesAsync(_source, geoName, CancellationToken.None);

        // Latest geo-backup, in the paired region, no point in time asked for, and said so.
        var body = _standIn.PutBodies[geoName];
        Assert.Equal("GeoRestore", body["properties"]!["createMode"]!.GetValue<string>());
        Assert.Null(body["properties"]!["pointInTimeUTC"]);
        Assert.Equal("westus", body["location"]!.GetValue<string>());
        var tags = _standIn.Servers[geoName].Tags;
        Assert.Equal(AzureFlexibleServerProvisioner.LatestGeoBackup, tags[AzureFlexibleServerProvisioner.RestorePointTag]);
        Assert.Equal(started.RequestedAt.UtcDateTime.ToString("O"), tags[AzureFlexibleServerProvisioner.GeoRequestedAtTag]);
        Assert.False(tags.ContainsKey(AzureFlexibleServerProvisioner.RestoreTimeTag));
        Assert.Contains("latest geo-backup available in westus", started.RestorePoint, StringComparison.Ordinal);
        Assert.NotNull(started.OperationUrl);
        // Firewall rules: none until Ready, then the source's, once.
        Assert.Contains("once it is Ready", early.Problem, StringComparison.Ordinal);
        Assert.Equal(["functions-outbound", "office"], early.Missing);
        Assert.Equal(ServerState.Ready, status.State);
        Assert.Equal(["functions-outbound", "office"], applied.Created);
        Assert.Empty(applied.Missing);
        Assert.Null(applied.Problem);
        Assert.Equal(("203.0.113.0", "203.0.113.255"), _standIn.Servers[geoName].FirewallRules["office"]);
        Assert.Empty(again.Created);
        Assert.Empty(again.Missing);
        // Never a point-in-time server: a request naming it is refused.
        await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            provisioner.ProvisionAsync(new ProvisionServerInput("run-2", _source, geoName, RestoreTime), CancellationToken.None));
    }

    [Fact]
    public async Task GeoRestore_SourceWithoutGeoBackupOrWithoutPairedRegion_IsRefusedBeforeAnyPut()
    {
        var withoutGeoBackup = await Assert.ThrowsAsync<InvalidRestoreInputException>(() =>
            Provisioner(geoLocation: "westus").StartGeoRestoreAsync(new GeoRestoreInput("run-dr", _source, "pg-us-east-1-geo-1"), CancellationToken.None));
        var withoutRegion = await Assert.ThrowsAsync<InvalidRestoreInputException>(() =>
            _provisioner.StartGeoRestoreAsync(new GeoRestoreInput("run-dr", _source, "pg-us-east-1-geo-1"), CancellationToken.None));

        Assert.Contains("geoRedundantBackup is Disabled", withoutGeoBackup.Message, StringComparison.Ordinal);
        Assert.Contains("AzureArm:GeoRestoreLocation", withoutRegion.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ApplyFirewallRules_PointInTimeServer_FindsThemInheritedAndPrivateAccessIsNamed()
    {
        _standIn.Servers["pg-us-east-1"].FirewallRules["office"] = ("203.0.113.0", "203.0.113.255");
        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);
        while ((await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name, started.OperationUrl), CancellationToken.None)).State != ServerState.Ready)
        {
        }

        var inherited = await _provisioner.ApplyFirewallRulesAsync(_source, Name, CancellationToken.None);
        _standIn.Servers["pg-us-east-1"].Properties["network"] = new JsonObject { ["delegatedSubnetResourceId"] = "/subscriptions/x/resourceGroups/rcm-prod/providers/Microsoft.Network/virtualNetworks/v/subnets/pg" };
        var privateAccess = await _provisioner.ApplyFirewallRulesAsync(_source, Name, CancellationToken.None);

        Assert.Empty(inherited.Created);
        Assert.Empty(inherited.Missing);
        Assert.Contains("private access", privateAccess.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(_standIn.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal) && r.Contains("firewallRules", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Provision_CustomerManagedKeySource_SendsItsIdentitiesAndDataEncryption()
    {
        const string primary = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rcm-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pg-cmk";
        const string geo = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rcm-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pg-cmk-geo";
        _standIn.Servers["pg-us-east-1"].Properties["dataEncryption"] = new JsonObject
        {
            ["type"] = "AzureKeyVault",
            ["primaryKeyURI"] = "https://rcm-keys.vault.azure.net/keys/pg/0123456789abcdef0123456789abcdef",
            ["primaryUserAssignedIdentityId"] = primary,
            ["geoBackupKeyURI"] = "https://rcm-keys-west.vault.azure.net/keys/pg/fedcba9876543210fedcba9876543210",
            ["geoBackupUserAssignedIdentityId"] = geo,
            ["primaryEncryptionKeyStatus"] = "Valid",
        };

        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);

        var body = _standIn.PutBodies[Name];
        Assert.Equal("UserAssigned", body["identity"]!["type"]!.GetValue<string>());
        Assert.Equal([primary, geo], body["identity"]!["userAssignedIdentities"]!.AsObject().Select(i => i.Key).Order(StringComparer.Ordinal));
        var encryption = body["properties"]!["dataEncryption"]!.AsObject();
        Assert.Equal("AzureKeyVault", encryption["type"]!.GetValue<string>());
        Assert.Equal("https://rcm-keys.vault.azure.net/keys/pg/0123456789abcdef0123456789abcdef", encryption["primaryKeyURI"]!.GetValue<string>());
        Assert.Equal(primary, encryption["primaryUserAssignedIdentityId"]!.GetValue<string>());
        Assert.Equal("https://rcm-keys-west.vault.azure.net/keys/pg/fedcba9876543210fedcba9876543210", encryption["geoBackupKeyURI"]!.GetValue<string>());
        Assert.Equal(geo, encryption["geoBackupUserAssignedIdentityId"]!.GetValue<string>());
        Assert.False(encryption.ContainsKey("primaryEncryptionKeyStatus")); // read-only: never sent back
    }

    [Fact]
    public async Task Provision_ServiceManagedKeySource_SendsNeitherIdentityNorDataEncryption()
    {
        _standIn.Servers["pg-us-east-1"].Properties["dataEncryption"] = new JsonObject { ["type"] = "SystemManaged" };

        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);

        var body = _standIn.PutBodies[Name];
        Assert.Null(body["identity"]);
        Assert.Null(body["properties"]!["dataEncryption"]);
    }

    [Fact]
    public async Task Requests_ThrottledAndFailing_AreRetriedHonouringRetryAfter()
    {
        _standIn.EnqueueFault(429, retryAfter: "1");
        _standIn.EnqueueFault(500);
        _standIn.EnqueueFault(503);

        var started = await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);

        Assert.Equal(ServerState.Provisioning, started.State);
        Assert.True(_standIn.Servers.ContainsKey(Name));
    }

    [Fact]
    public async Task Requests_FailingBeyondTheAttempts_SurfaceTheArmError()
    {
        for (var i = 0; i < 5; i++)
        {
            _standIn.EnqueueFault(500);
        }

        var error = await Assert.ThrowsAsync<global::Azure.RequestFailedException>(() =>
            _provisioner.GetStateAsync(new GetServerStateInput(_source, Name), CancellationToken.None));

        Assert.Equal(500, error.Status);
    }

    [Fact]
    public async Task Delete_OwnServer_DeletesOnceThenReportsGone()
    {
        await _provisioner.ProvisionAsync(new ProvisionServerInput("run-1", _source, Name, RestoreTime), CancellationToken.None);

        var first = await _provisioner.DeleteAsync(new DeleteServerInput(_source, Name), CancellationToken.None);
        var second = await _provisioner.DeleteAsync(new DeleteServerInput(_source, Name), CancellationToken.None);
        var state = await _provisioner.GetStateAsync(new GetServerStateInput(_source, Name), CancellationToken.None);

        Assert.True(first.Deleted);
        Assert.False(second.Deleted);
        Assert.Equal(ServerState.NotFound, state.State);
    }

    [Fact]
    public async Task GetStorage_LiveServer_ReadsTheProvisionedSizeAndLeavesFreeSpaceUnknown()
    {
        _standIn.AddSourceServer("pg-us-east-1", Earliest, storageSizeGb: 128);
        _standIn.AddSourceServer("pg-us-east-2", Earliest);

        var sized = await _provisioner.GetStorageAsync(_source, CancellationToken.None);
        var unsized = await _provisioner.GetStorageAsync(_source with { Name = "pg-us-east-2" }, CancellationToken.None);
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => _provisioner.GetStorageAsync(_source with { Name = "pg-us-east-3" }, CancellationToken.None));

        Assert.Equal(new ServerStorage(128L * 1024 * 1024 * 1024, FreeBytes: null), sized);
        Assert.Equal(ServerStorage.Unknown, unsized);
        Assert.Contains("pg-us-east-3", missing.Message, StringComparison.Ordinal);
        Assert.Contains(_standIn.Requests, r => r == $"GET {_standIn.ServerPath("pg-us-east-1")}?api-version=2025-08-01");
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
