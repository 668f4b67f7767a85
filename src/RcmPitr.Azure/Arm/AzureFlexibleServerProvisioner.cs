using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;
using Azure.ResourceManager.Models;
using Azure.ResourceManager.Resources;
using Polly;
using Polly.Retry;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Azure.Arm;

/// <summary>
/// Runbook step 2 on Azure: <c>PUT Microsoft.DBforPostgreSQL/flexibleServers/{name}</c> with
/// <c>createMode: PointInTimeRestore</c> (only inside the retention window: a T before the source's
/// <c>backup.earliestRestoreDate</c> is refused, never geo-restored), started without waiting — the orchestrator polls
/// <c>properties.state</c> on durable timers — and DELETE at clean-up. The servers RcmPitr creates carry tags
/// with the source and the restore time: a server is RcmPitr's for (source, T) when its tags say so and its name is
/// the one <see cref="ServerNames.Pitr"/> gives them. That is how the same request finds its server again (runs restoring
/// one source to one second share it), and how a server RcmPitr did not create for this source and time is never
/// reused or deleted. A server being deleted (<c>Dropping</c>) is never reused: the request fails retryably.
/// </summary>
public sealed class AzureFlexibleServerProvisioner : IServerProvisioner, IGeoRestorer
{
    /// <summary>Tag: the restore time (ISO-8601 UTC) a server was created for.</summary>
    public const string RestoreTimeTag = "rcm-pitr-restore-time";

    /// <summary>Tag: the run whose request created the server (for people: the server is shared, ownership is source and restore time).</summary>
    public const string RunTag = "rcm-pitr-run";

    /// <summary>Tag: the source server.</summary>
    public const string SourceTag = "rcm-pitr-source";

    /// <summary>Tag on a geo-restored server: <see cref="LatestGeoBackup"/>. It has no restore-time tag, so no point-in-time request ever uses or deletes it.</summary>
    public const string RestorePointTag = "rcm-pitr-restore-point";

    /// <summary>Tag on a geo-restored server: when the restore was asked for (ISO-8601 UTC).</summary>
    public const string GeoRequestedAtTag = "rcm-pitr-geo-requested-at";

    /// <summary>What a geo-restore brings back: the latest geo-backup, not a chosen time.</summary>
    public const string LatestGeoBackup = "latest-geo-backup";

    private readonly ArmClient _arm;
    private readonly HttpPipeline _http;
    private readonly AzureArmOptions _options;
    private readonly ResiliencePipeline _transient;
    private readonly TimeProvider _time;

    /// <summary>Creates the provisioner over the process's <see cref="ArmClient"/>.</summary>
    public AzureFlexibleServerProvisioner(ArmClient arm, AzureArmOptions options, TimeProvider time)
    {
        _arm = arm;
        _http = new ArmRequests(arm, new ResourceIdentifier($"/subscriptions/{options.SubscriptionId}")).Http;
        _options = options;
        _time = time;
        _transient = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RequestFailedException>(e => e.Status is 429 or >= 500),
                MaxRetryAttempts = Math.Max(0, options.MaxTransientAttempts - 1),
                Delay = options.TransientBackoff,
                MaxDelay = TimeSpan.FromSeconds(30),
                BackoffType = DelayBackoffType.Exponential,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Exception)),
            })
            .Build();
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset> GetEarliestRestoreTimeAsync(DbServerInfo source, CancellationToken cancellationToken)
    {
        var server = await GetAsync(SourceId(source), cancellationToken)
                     ?? throw new InvalidOperationException($"The source server {source?.Name} does not exist in Azure.");
        return ReadBackup(server).Earliest;
    }

    /// <inheritdoc />
    public async Task<ProvisionServerResult> ProvisionAsync(ProvisionServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = ServerNames.Require(input.ServerName, "serverName");
        var targetId = ServerId(name);
        var wanted = input.RestoreTime.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        if (await GetAsync(targetId, cancellationToken) is { } existing)
        {
            RequireOwned(existing, name, input.Source.Name, input.RestoreTime, "used");
            var (state, detail, _, _) = StateOf(existing);
            return RawState(existing) == "Dropping"
                ? throw new ServerBeingDeletedException(name, detail)
                : new ProvisionServerResult(name, state, AlreadyExisted: true);
        }

        var sourceId = SourceId(input.Source);
        var source = await GetAsync(sourceId, cancellationToken)
                     ?? throw new InvalidOperationException($"The source server {input.Source.Name} ({sourceId}) does not exist.");
        RequireWithinRetention(input, ReadBackup(source).Earliest);
        var properties = new JsonObject
        {
            ["createMode"] = "PointInTimeRestore",
            ["sourceServerResourceId"] = sourceId.ToString(),
            ["pointInTimeUTC"] = wanted,
        };
        var data = new GenericResourceData(new AzureLocation(_options.Location));
        CarryCustomerManagedKey(source, properties, data);
        data.Properties = BinaryData.FromString(properties.ToJsonString());
        data.Tags[RestoreTimeTag] = wanted;
        data.Tags[RunTag] = input.RunId;
        data.Tags[SourceTag] = input.Source.Name;

        var accepted = await _transient.ExecuteAsync(
            async token => await _arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Started, targetId, data, token),
            cancellationToken);
        return new ProvisionServerResult(name, ServerState.Provisioning, AlreadyExisted: false, OperationUrlOf(accepted.GetRawResponse()));
    }

    /// <inheritdoc />
    /// <remarks>
    /// With the restore's operation, ARM's own verdict is read beside the server: a failed restore is reported with ARM's
    /// error code and message, and a server ARM does not show yet while its operation runs is still provisioning (ARM can
    /// answer 404 for a while after accepting the PUT).
    /// </remarks>
    public async Task<ServerStatus> GetStateAsync(GetServerStateInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = ServerNames.Require(input.ServerName, "serverName");
        var server = await GetAsync(ServerId(name), cancellationToken);
        if (server is not null && StateOf(server) is { State: ServerState.Ready, Fqdn: not null } ready)
        {
            return new ServerStatus(name, ServerState.Ready, new DbServerInfo(name, ready.Fqdn, 5432, input.Source.AdminUser, input.Source.AdminSecretRef, ready.Major ?? input.Source.MajorVersion, server.Id.ToString()), ready.Detail);
        }

        var operation = input.OperationUrl is { Length: > 0 } url ? await ReadOperationAsync(url, cancellationToken) : null;
        if (operation is { Failed: true })
        {
            return new ServerStatus(name, ServerState.Failed, Detail: $"the restore failed in Azure (operation {operation.Status}): {operation.Error ?? "Azure gave no error detail"}");
        }

        if (server is null)
        {
            return operation is { Running: true }
                ? new ServerStatus(name, ServerState.Provisioning, Detail: $"accepted by Azure (operation {operation.Status}); the server is not visible yet")
                : new ServerStatus(name, ServerState.NotFound, Detail: operation is null ? "no such server in Azure" : $"no such server in Azure (its restore operation is {operation.Status})");
        }

        var (state, detail, _, _) = StateOf(server);
        return new ServerStatus(name, state, Detail: detail);
    }

    /// <inheritdoc />
    public async Task<DeleteServerResult> DeleteAsync(DeleteServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = ServerNames.Require(input.ServerName, "serverName");
        if (await GetAsync(ServerId(name), cancellationToken) is not { } server)
        {
            return new DeleteServerResult(name, Deleted: false);
        }

        RequireOwned(server, name, input.Source.Name, input.RestoreTime, "deleted");
        if (RawState(server) == "Dropping")
        {
            return new DeleteServerResult(name, Deleted: true); // an earlier attempt's deletion is under way
        }

        await _transient.ExecuteAsync(async token => await server.DeleteAsync(WaitUntil.Started, token), cancellationToken);
        return new DeleteServerResult(name, Deleted: true);
    }

    /// <summary>
    /// Region loss only: starts a geo-restore of the source's latest geo-backup in the paired region
    /// (<see cref="AzureArmOptions.GeoRestoreLocation"/>), without <c>pointInTimeUTC</c> — Azure cannot geo-restore to a chosen
    /// time, so this is never a way to a point in time. The server is tagged with the source, the run, what it holds
    /// (<see cref="LatestGeoBackup"/>) and when it was asked for; it carries the source's customer-managed key. Azure does not
    /// copy firewall rules to it: apply them with <see cref="ApplyFirewallRulesAsync"/> once it is Ready. Poll it with
    /// <see cref="GetStateAsync"/> and the result's operation.
    /// </summary>
    public async Task<GeoRestoreResult> StartGeoRestoreAsync(GeoRestoreInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Source);
        var name = ServerNames.Require(input.ServerName, "serverName");
        var paired = _options.GeoRestoreLocation is { Length: > 0 } region
            ? region
            : throw new InvalidRestoreInputException("geoRestoreLocation", "AzureArm:GeoRestoreLocation (the paired region) is not set, so geo-restore is off");
        var targetId = ServerId(name);
        if (await GetAsync(targetId, cancellationToken) is { } existing)
        {
            var tags = existing.Data.Tags;
            if (!tags.TryGetValue(SourceTag, out var taggedSource) || taggedSource != input.Source.Name ||
                !tags.TryGetValue(RestorePointTag, out var point) || point != LatestGeoBackup ||
                !tags.TryGetValue(GeoRequestedAtTag, out var at) ||
                !DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var requested))
            {
                throw new DatabaseStateConflictException($"The server {name} exists but is not RcmPitr's geo-restore of {input.Source.Name}: it is not used for this request.");
            }

            var (state, detail, _, _) = StateOf(existing);
            return RawState(existing) == "Dropping"
                ? throw new ServerBeingDeletedException(name, detail)
                : new GeoRestoreResult(name, state, AlreadyExisted: true, existing.Data.Location.Name, requested, GeoRestorePoint(existing.Data.Location.Name, requested));
        }

        var sourceId = SourceId(input.Source);
        var source = await GetAsync(sourceId, cancellationToken)
                     ?? throw new InvalidOperationException($"The source server {input.Source.Name} ({sourceId}) does not exist.");
        if (!ReadBackup(source).GeoRedundant)
        {
            throw new InvalidRestoreInputException("source",
                $"{input.Source.Name} has no geo-redundant backup (backup.geoRedundantBackup is Disabled, and it can only be chosen when a server is created): it cannot be geo-restored");
        }

        var properties = new JsonObject { ["createMode"] = "GeoRestore", ["sourceServerResourceId"] = sourceId.ToString() };
        var data = new GenericResourceData(new AzureLocation(paired));
        CarryCustomerManagedKey(source, properties, data);
        data.Properties = BinaryData.FromString(properties.ToJsonString());
        var requestedAt = _time.GetUtcNow();
        data.Tags[SourceTag] = input.Source.Name;
        data.Tags[RunTag] = input.RunId;
        data.Tags[RestorePointTag] = LatestGeoBackup;
        data.Tags[GeoRequestedAtTag] = requestedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

        var accepted = await _transient.ExecuteAsync(
            async token => await _arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Started, targetId, data, token),
            cancellationToken);
        return new GeoRestoreResult(name, ServerState.Provisioning, AlreadyExisted: false, paired, requestedAt, GeoRestorePoint(paired, requestedAt), OperationUrlOf(accepted.GetRawResponse()));
    }

    /// <summary>
    /// A geo-restored server's state (<see cref="GetStateAsync"/>); once Ready, what it holds as its tags say: the latest
    /// geo-backup at the time it was asked for. Azure reports no exact time, so none is claimed.
    /// </summary>
    public async Task<GeoRestoreState> GetGeoRestoreStateAsync(GetServerStateInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var status = await GetStateAsync(input, cancellationToken);
        if (status.State != ServerState.Ready || await GetAsync(ServerId(status.ServerName), cancellationToken) is not { } server)
        {
            return new GeoRestoreState(status);
        }

        var point = server.Data.Tags.TryGetValue(GeoRequestedAtTag, out var at) &&
                    DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var requested)
            ? GeoRestorePoint(server.Data.Location.Name, requested)
            : $"the latest geo-backup available in {server.Data.Location.Name} (Azure reports no exact time)";
        return new GeoRestoreState(status, point);
    }

    /// <summary>
    /// Gives a restored server the source's firewall rules (a geo-restore needs this; a point-in-time restore inherits them):
    /// creates each rule the server lacks or has with other addresses, then reports the ones it does not show yet. Once the
    /// server is Ready; idempotent, so call it again until nothing is missing. A source with private access has no rules to
    /// copy: its geo-restore needs a virtual network in the paired region, which is said instead.
    /// </summary>
    public async Task<FirewallRulesResult> ApplyFirewallRulesAsync(DbServerInfo source, string serverName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var name = ServerNames.Require(serverName, "serverName");
        var sourceId = SourceId(source);
        var sourceServer = await GetAsync(sourceId, cancellationToken)
                           ?? throw new InvalidOperationException($"The source server {source.Name} ({sourceId}) does not exist.");
        var target = await GetAsync(ServerId(name), cancellationToken)
                     ?? throw new InvalidOperationException($"The server {name} does not exist in Azure.");
        var wanted = await FirewallRulesAsync(sourceId, cancellationToken);
        var names = wanted.Keys.Order(StringComparer.Ordinal).ToList();
        if (PrivateAccess(sourceServer))
        {
            return new FirewallRulesResult(names, [], names,
                $"{source.Name} uses private access (a delegated subnet): firewall rules do not apply, and {name} needs a virtual network in its own region");
        }

        if (RawState(target) is var state && state != "Ready")
        {
            return new FirewallRulesResult(names, [], names, $"{name} is {state ?? "in an unknown state"}: firewall rules can be applied once it is Ready");
        }

        var present = await FirewallRulesAsync(target.Id, cancellationToken);
        var created = new List<string>();
        foreach (var rule in names.Where(n => !present.TryGetValue(n, out var range) || range != wanted[n]))
        {
            var (start, end) = wanted[rule];
            await SendAsync(
                RequestMethod.Put,
                new Uri(_options.Endpoint, $"{target.Id}/firewallRules/{Uri.EscapeDataString(rule)}?api-version={_options.ApiVersion}"),
                new JsonObject { ["properties"] = new JsonObject { ["startIpAddress"] = start, ["endIpAddress"] = end } },
                cancellationToken);
            created.Add(rule);
        }

        var after = created.Count == 0 ? present : await FirewallRulesAsync(target.Id, cancellationToken);
        return new FirewallRulesResult(names, created, names.Where(n => !after.TryGetValue(n, out var range) || range != wanted[n]).ToList());
    }

    /// <inheritdoc />
    public async Task<ServerStorage> GetStorageAsync(DbServerInfo server, CancellationToken cancellationToken)
    {
        var found = await GetAsync(SourceId(server), cancellationToken)
                    ?? throw new InvalidOperationException($"The server {server.Name} does not exist in Azure.");
        using var properties = JsonDocument.Parse(found.Data.Properties?.ToString() ?? "{}");
        // ARM reports the provisioned size (GiB), not what is used of it: the free space stays unknown.
        return properties.RootElement.TryGetProperty("storage", out var storage) && storage.ValueKind == JsonValueKind.Object &&
               storage.TryGetProperty("storageSizeGB", out var size) && size.ValueKind == JsonValueKind.Number && size.TryGetInt64(out var gib)
            ? new ServerStorage(gib * 1024 * 1024 * 1024, FreeBytes: null)
            : ServerStorage.Unknown;
    }

    private static string GeoRestorePoint(string location, DateTimeOffset requestedAt) =>
        $"the latest geo-backup available in {location} at {requestedAt.UtcDateTime:O} (geo-backups lag the source by up to an hour; Azure reports no exact time)";

    private static bool PrivateAccess(GenericResource server)
    {
        using var properties = JsonDocument.Parse(server.Data.Properties?.ToString() ?? "{}");
        return properties.RootElement.TryGetProperty("network", out var network) && network.ValueKind == JsonValueKind.Object &&
               Text(network, "delegatedSubnetResourceId") is { Length: > 0 };
    }

    // GET {server}/firewallRules (pageable): name → (start, end).
    private async Task<Dictionary<string, (string Start, string End)>> FirewallRulesAsync(ResourceIdentifier server, CancellationToken cancellationToken)
    {
        var rules = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        Uri? next = new(_options.Endpoint, $"{server}/firewallRules?api-version={_options.ApiVersion}");
        while (next is not null)
        {
            var (_, content) = await SendAsync(RequestMethod.Get, next, null, cancellationToken);
            using var page = JsonDocument.Parse(content.ToMemory());
            if (page.RootElement.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
            {
                foreach (var rule in value.EnumerateArray())
                {
                    if (Text(rule, "name") is { } ruleName && rule.TryGetProperty("properties", out var p) &&
                        Text(p, "startIpAddress") is { } start && Text(p, "endIpAddress") is { } end)
                    {
                        rules[ruleName] = (start, end);
                    }
                }
            }

            next = Text(page.RootElement, "nextLink") is { } link && Uri.TryCreate(link, UriKind.Absolute, out var nextUri) && IsArm(nextUri) ? nextUri : null;
        }

        return rules;
    }

    // One ARM request through the client's pipeline; transient faults are retried, any other error is thrown.
    private async Task<(int Status, BinaryData Content)> SendAsync(RequestMethod method, Uri uri, JsonObject? body, CancellationToken cancellationToken) =>
        await _transient.ExecuteAsync(
            async token =>
            {
                using var message = _http.CreateMessage();
                message.Request.Method = method;
                message.Request.Uri.Reset(uri);
                if (body is not null)
                {
                    message.Request.Headers.Add("Content-Type", "application/json");
                    message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
                }

                await _http.SendAsync(message, token);
                return message.Response.IsError ? throw new RequestFailedException(message.Response) : (message.Response.Status, message.Response.Content);
            },
            cancellationToken);

    // ARM's LRO headers, in Azure.Core's order of preference after Operation-Location (which flexibleServers does not send).
    private string? OperationUrlOf(Response accepted)
    {
        foreach (var header in new[] { "Azure-AsyncOperation", "Location" })
        {
            if (accepted.Headers.TryGetValue(header, out var value) && Uri.TryCreate(value, UriKind.Absolute, out var uri) && IsArm(uri))
            {
                return uri.ToString();
            }
        }

        return null;
    }

    // The URL travels through the orchestration's history and back: a bearer token goes only to the ARM endpoint itself.
    private bool IsArm(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttps && string.Equals(uri.Host, _options.Endpoint.Host, StringComparison.OrdinalIgnoreCase) && uri.Port == _options.Endpoint.Port;

    // GET on the async operation: {status: InProgress|Succeeded|Failed|Canceled, error: {code, message}}. A Location URL
    // answers 202 while running and the resource (or nothing) once done. An operation ARM no longer knows says nothing.
    private async Task<OperationStatus?> ReadOperationAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !IsArm(uri))
        {
            throw new InvalidRestoreInputException("operationUrl", "is not an address of the configured ARM endpoint");
        }

        var (status, content) = await _transient.ExecuteAsync(
            async token =>
            {
                using var message = _http.CreateMessage();
                message.Request.Method = RequestMethod.Get;
                message.Request.Uri.Reset(uri);
                await _http.SendAsync(message, token);
                return message.Response.Status is 429 or >= 500
                    ? throw new RequestFailedException(message.Response)
                    : (message.Response.Status, message.Response.Content);
            },
            cancellationToken);
        if (status == 202)
        {
            return new OperationStatus("InProgress", null);
        }

        if (status == 404)
        {
            return null; // the operation is not known (yet): the server's own state decides
        }

        if (status is 401 or 403)
        {
            throw new InvalidOperationException(
                $"ARM refused reading the restore's operation ({status}): the app's identity needs the azureAsyncOperation / operationResults " +
                "read actions of the RcmPitr restorer role (infra/modules/postgres-access.bicep)");
        }

        if (status >= 400)
        {
            // A Location-style poll answers a failed operation with a 4xx and ARM's error body.
            return new OperationStatus("Failed", ErrorOf(content) ?? $"HTTP {status} from the operation");
        }

        if (content.ToMemory().IsEmpty)
        {
            return new OperationStatus("Succeeded", null);
        }

        using var body = JsonDocument.Parse(content.ToMemory());
        var root = body.RootElement;
        var reported = root.ValueKind == JsonValueKind.Object ? Text(root, "status") : null;
        return reported is null
            ? new OperationStatus("Succeeded", null) // a Location poll that finished answers with the resource
            : new OperationStatus(reported, ErrorOf(content));
    }

    /// <summary>ARM's <c>error.code: error.message</c> in an operation's body, at most 1000 characters; null when there is none.</summary>
    private static string? ErrorOf(BinaryData content)
    {
        try
        {
            using var body = JsonDocument.Parse(content.ToMemory());
            if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("error", out var e) || e.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var text = $"{Text(e, "code") ?? "(no code)"}: {Text(e, "message") ?? "(no message)"}";
            return text.Length <= 1000 ? text : text[..1000] + "…";
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record OperationStatus(string Status, string? Error)
    {
        public bool Failed => Status.Equals("Failed", StringComparison.OrdinalIgnoreCase) || Status.Equals("Canceled", StringComparison.OrdinalIgnoreCase);

        public bool Running => !Failed && !Status.Equals("Succeeded", StringComparison.OrdinalIgnoreCase);
    }

    // RcmPitr's for this source and time: tagged with both by RcmPitr, and named for them. Anything else is refused as it is.
    private static void RequireOwned(GenericResource server, string name, string source, DateTimeOffset? restoreTime, string verb)
    {
        var tags = server.Data.Tags;
        if (!tags.TryGetValue(RestoreTimeTag, out var timeTag) || !tags.TryGetValue(SourceTag, out var sourceTag) ||
            !DateTimeOffset.TryParse(timeTag, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var taggedTime))
        {
            throw new DatabaseStateConflictException(
                $"The server {name} exists but was not created by RcmPitr (no {RestoreTimeTag} and {SourceTag} tags): it is neither used nor deleted. " +
                "Choose another restore time (each second has its own server name), or ask whoever owns that server.");
        }

        if (sourceTag != source || ServerNames.Pitr(sourceTag, RestoreStamp.From(taggedTime)) != name || (restoreTime is { } t && taggedTime != t))
        {
            throw new DatabaseStateConflictException(
                $"The server {name} was created by RcmPitr for {sourceTag} restored to {timeTag}, not for {source}" +
                (restoreTime is { } wanted ? $" restored to {wanted.UtcDateTime:O}" : string.Empty) + $"; it is not {verb} for this request.");
        }
    }

    private static string? RawState(GenericResource server)
    {
        using var properties = JsonDocument.Parse(server.Data.Properties?.ToString() ?? "{}");
        return properties.RootElement.TryGetProperty("state", out var state) ? state.GetString() : null;
    }

    // A server encrypted with a customer-managed key restores only with its key and the user-assigned identities that
    // may read it (2025-08-01 ServersCreateGeoRestoreWithDataEncryptionEnabled): the source's, copied. Read-only key
    // states are not sent back. A service-managed key needs nothing.
    private static void CarryCustomerManagedKey(GenericResource source, JsonObject properties, GenericResourceData data)
    {
        using var read = JsonDocument.Parse(source.Data.Properties?.ToString() ?? "{}");
        if (!read.RootElement.TryGetProperty("dataEncryption", out var encryption) || encryption.ValueKind != JsonValueKind.Object ||
            !string.Equals(Text(encryption, "type"), "AzureKeyVault", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var carried = new JsonObject { ["type"] = "AzureKeyVault" };
        data.Identity = new ManagedServiceIdentity(ManagedServiceIdentityType.UserAssigned);
        foreach (var (key, identity) in new[] { ("primaryKeyURI", "primaryUserAssignedIdentityId"), ("geoBackupKeyURI", "geoBackupUserAssignedIdentityId") })
        {
            if (Text(encryption, key) is { Length: > 0 } uri)
            {
                carried[key] = uri;
            }

            if (Text(encryption, identity) is { Length: > 0 } id)
            {
                carried[identity] = id;
                data.Identity.UserAssignedIdentities[new ResourceIdentifier(id)] = new UserAssignedIdentity();
            }
        }

        properties["dataEncryption"] = carried;
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // Only a point-in-time restore brings back the data at T, and only inside the retention window. A geo-restore cannot
    // reach further back: it restores the latest geo-backup (about an hour old), so it is never a way to T.
    private static void RequireWithinRetention(ProvisionServerInput input, DateTimeOffset earliest)
    {
        if (input.RestoreTime < earliest)
        {
            throw new InvalidRestoreInputException("restoreTime",
                $"{input.RestoreTime.UtcDateTime:O} is before {input.Source.Name}'s backup.earliestRestoreDate {earliest.UtcDateTime:O}: " +
                "nothing older than the retention window can be restored to a point in time (a geo-restore restores only the latest geo-backup, not T)");
        }
    }

    private async Task<GenericResource?> GetAsync(ResourceIdentifier id, CancellationToken cancellationToken)
    {
        try
        {
            return await _transient.ExecuteAsync(async token => (await _arm.GetGenericResource(id).GetAsync(token)).Value, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private ResourceIdentifier ServerId(string name) =>
        new($"/subscriptions/{_options.SubscriptionId}/resourceGroups/{_options.ResourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{name}");

    private ResourceIdentifier SourceId(DbServerInfo? source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.ArmResourceId is { Length: > 0 } id ? new ResourceIdentifier(id) : ServerId(source.Name);
    }

    private static (DateTimeOffset Earliest, bool GeoRedundant) ReadBackup(GenericResource server)
    {
        using var properties = JsonDocument.Parse(server.Data.Properties.ToString());
        if (!properties.RootElement.TryGetProperty("backup", out var backup) || !backup.TryGetProperty("earliestRestoreDate", out var earliest))
        {
            throw new InvalidOperationException($"{server.Data.Name} reports no backup.earliestRestoreDate.");
        }

        var geo = backup.TryGetProperty("geoRedundantBackup", out var g) && string.Equals(g.GetString(), "Enabled", StringComparison.OrdinalIgnoreCase);
        return (earliest.GetDateTimeOffset(), geo);
    }

    private static (ServerState State, string Detail, string? Fqdn, int? Major) StateOf(GenericResource server)
    {
        using var properties = JsonDocument.Parse(server.Data.Properties?.ToString() ?? "{}");
        var root = properties.RootElement;
        var state = root.TryGetProperty("state", out var s) ? s.GetString() ?? "Unknown" : "Unknown";
        var fqdn = root.TryGetProperty("fullyQualifiedDomainName", out var f) ? f.GetString() : null;
        int? major = root.TryGetProperty("version", out var v) && int.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : null;
        var mapped = state switch
        {
            "Ready" => ServerState.Ready,
            "Provisioning" or "Starting" or "Updating" or "Restarting" or "Unknown" => ServerState.Provisioning,
            _ => ServerState.Failed,
        };
        return (mapped, $"Azure state {state}", fqdn, major);
    }

    // ARM's throttling answer says when to come back (seconds or an HTTP date); without one, exponential back-off.
    private TimeSpan? RetryAfter(Exception? exception)
    {
        if (exception is RequestFailedException failed && failed.GetRawResponse() is { } response &&
            response.Headers.TryGetValue("Retry-After", out var value))
        {
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(Math.Min(seconds, 120));
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - _time.GetUtcNow();
                return wait > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(wait.Ticks, TimeSpan.FromSeconds(120).Ticks)) : TimeSpan.Zero;
            }
        }

        return null;
    }
}
