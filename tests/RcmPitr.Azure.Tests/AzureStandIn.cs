using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RcmPitr.Azure.Tests;

/// <summary>
/// A loopback HTTPS stand-in for the parts of ARM and Key Vault RcmPitr calls, serving the REST contracts of
/// reference §6–§9 (flexibleServers PUT/GET/DELETE with the LRO headers; Key Vault's challenge flow and
/// secrets). The real SDK clients talk to it through a transport that trusts its self-signed certificate.
/// </summary>
public sealed class AzureStandIn : IAsyncDisposable
{
    public const string Subscription = "00000000-0000-0000-0000-000000000001";
    public const string ResourceGroup = "rcm-prod";

    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _faults = new();

    private AzureStandIn(WebApplication app, X509Certificate2 certificate)
    {
        _app = app;
        _certificate = certificate;
    }

    public Uri BaseUri { get; private set; } = null!;
    public ConcurrentDictionary<string, Server> Servers { get; } = new(StringComparer.OrdinalIgnoreCase);
    public ConcurrentDictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal);
    public ConcurrentQueue<string> Requests { get; } = new();
    public int PollsBeforeReady { get; set; } = 2;

    /// <summary>Server GETs answered 404 right after an accepted PUT, as ARM can before the resource provider shows the server.</summary>
    public int NotFoundPollsAfterPut { get; set; }

    /// <summary>The body of the last PUT of each server, as sent.</summary>
    public ConcurrentDictionary<string, JsonObject> PutBodies { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When set, operation GETs answer this status with ARM's error body (403: a role without the read action).</summary>
    public int? OperationStatusOverride { get; set; }

    /// <summary>The async operations ARM handed out, by id.</summary>
    public ConcurrentDictionary<string, Operation> Operations { get; } = new(StringComparer.OrdinalIgnoreCase);

    public sealed class Server
    {
        public required string Location { get; init; }
        public required Dictionary<string, string> Tags { get; init; }
        public required JsonObject Properties { get; init; }
        public JsonObject? Identity { get; init; }
        public ConcurrentDictionary<string, (string Start, string End)> FirewallRules { get; } = new(StringComparer.OrdinalIgnoreCase);
        public int PollsLeft { get; set; }
        public int HiddenPolls { get; set; }
        public string? OperationId { get; set; }
    }

    public sealed class Operation
    {
        public required string ServerName { get; init; }
        public string Status { get; set; } = "InProgress";
        public string? ErrorCode { get; set; }
        public string? ErrorMessage { get; set; }
    }

    public static async Task<AzureStandIn> StartAsync()
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var standIn = new AzureStandIn(app, certificate);
        standIn.Map(app);
        await app.StartAsync();
        standIn.BaseUri = new Uri(app.Urls.Single());
        return standIn;
    }

    /// <summary>The next requests fail with these statuses (a 429 may carry Retry-After), in order.</summary>
    public void EnqueueFault(int status, string? retryAfter = null) => _faults.Enqueue((status, retryAfter));

    /// <summary>An SDK transport that trusts only this stand-in's certificate.</summary>
    public HttpPipelineTransport Transport()
    {
        var thumbprint = _certificate.GetCertHashString();
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == thumbprint;
        return new HttpClientTransport(new HttpClient(handler));
    }

    public string ServerPath(string name) => $"/subscriptions/{Subscription}/resourceGroups/{ResourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{name}";

    public void AddSourceServer(string name, DateTimeOffset earliestRestore, bool geoRedundant = false, int? storageSizeGb = null, JsonObject? identity = null)
    {
        Servers[name] = new Server
        {
            Location = "eastus",
            Tags = [],
            Identity = identity,
            Properties = new JsonObject
            {
                ["state"] = "Ready",
                ["version"] = "17",
                ["fullyQualifiedDomainName"] = $"{name}.postgres.database.azure.com",
                ["backup"] = new JsonObject
                {
                    ["backupRetentionDays"] = 7,
                    ["geoRedundantBackup"] = geoRedundant ? "Enabled" : "Disabled",
                    ["earliestRestoreDate"] = earliestRestore.UtcDateTime.ToString("O"),
                },
            },
        };
        if (storageSizeGb is { } gb)
        {
            // 2025-08-01 Storage: the provisioned size, with autoGrow and the tier as a real server reports them.
            Servers[name].Properties["storage"] = new JsonObject { ["storageSizeGB"] = gb, ["autoGrow"] = "Disabled", ["tier"] = "P10" };
        }
    }

    /// <summary>The restore of <paramref name="name"/> fails: its operation reports ARM's error and the server goes away.</summary>
    public void FailRestore(string name, string code, string message)
    {
        var server = Servers[name];
        Servers.TryRemove(name, out _);
        var operation = Operations[server.OperationId!];
        operation.Status = "Failed";
        operation.ErrorCode = code;
        operation.ErrorMessage = message;
    }

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            if (context.Request.Path.StartsWithSegments("/subscriptions") && _faults.TryDequeue(out var fault))
            {
                context.Response.StatusCode = fault.Status;
                if (fault.RetryAfter is not null)
                {
                    context.Response.Headers.RetryAfter = fault.RetryAfter;
                }

                await context.Response.WriteAsJsonAsync(new { error = new { code = fault.Status == 429 ? "TooManyRequests" : "InternalServerError", message = "injected fault" } });
                return;
            }

            await next(context);
        });

        var servers = $"/subscriptions/{Subscription}/resourceGroups/{ResourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{{name}}";
        app.MapGet(servers, (string name, HttpContext http) => GetServer(name, http));
        app.MapPut(servers, PutServerAsync);
        app.MapDelete(servers, (string name, HttpContext http) =>
        {
            if (!RequireBearer(http) || !Servers.TryRemove(name, out _))
            {
                return http.Response.StatusCode == 401 ? Results.Empty : Results.NoContent();
            }

            http.Response.Headers.Location = $"{BaseUri}operations/delete-{name}?api-version=2025-08-01";
            return Results.StatusCode(202);
        });
        app.MapGet($"/subscriptions/{Subscription}/providers/Microsoft.DBforPostgreSQL/locations/{{location}}/azureAsyncOperation/{{id}}", (string id, HttpContext http) =>
            !RequireBearer(http) ? Results.Empty
            : OperationStatusOverride is { } forced
                ? Results.Json(new { error = new { code = forced == 403 ? "AuthorizationFailed" : "OperationFailed", message = $"operation {id} answered {forced}" } }, statusCode: forced)
            : Operations.TryGetValue(id, out var operation) ? Results.Json(OperationBody(id, operation))
            : Results.Json(new { error = new { code = "ResourceNotFound", message = $"operation {id}" } }, statusCode: 404));
        app.MapGet(servers + "/firewallRules", (string name, HttpContext http) =>
            !RequireBearer(http) ? Results.Empty
            : Servers.TryGetValue(name, out var server) ? Results.Json(new
            {
                value = server.FirewallRules.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new
                {
                    id = $"{ServerPath(name)}/firewallRules/{r.Key}",
                    name = r.Key,
                    type = "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules",
                    properties = new { startIpAddress = r.Value.Start, endIpAddress = r.Value.End },
                }),
            })
            : Results.Json(new { error = new { code = "ResourceNotFound", message = $"The Resource '{name}' was not found." } }, statusCode: 404));
        app.MapPut(servers + "/firewallRules/{rule}", async (string name, string rule, HttpContext http) =>
        {
            if (!RequireBearer(http))
            {
                return Results.Empty;
            }

            var body = (await JsonNode.ParseAsync(http.Request.Body))!.AsObject();
            if (!Servers.TryGetValue(name, out var server) || server.Properties["state"]!.GetValue<string>() != "Ready")
            {
                return Results.Json(new { error = new { code = "ServerNotReady", message = $"{name} cannot take firewall rules now" } }, statusCode: 409);
            }

            var properties = body["properties"]!.AsObject();
            server.FirewallRules[rule] = (properties["startIpAddress"]!.GetValue<string>(), properties["endIpAddress"]!.GetValue<string>());
            http.Response.Headers["Azure-AsyncOperation"] = $"{BaseUri}subscriptions/{Subscription}/providers/Microsoft.DBforPostgreSQL/locations/{server.Location}/azureAsyncOperation/{NewOperation(name, "Succeeded")}?api-version=2025-08-01";
            return Results.StatusCode(202);
        });
        app.MapGet("/secrets/{name}/{version?}", (string name, HttpContext http) =>
            !Challenge(http) ? Results.Empty
            : Secrets.TryGetValue(name, out var value) ? Results.Json(SecretBody(name, value))
            : Results.Json(new { error = new { code = "SecretNotFound", message = $"A secret with (name/id) {name} was not found in this key vault." } }, statusCode: 404));
        app.MapPut("/secrets/{name}", async (string name, HttpContext http) =>
        {
            if (!Challenge(http))
            {
                return Results.Empty;
            }

            var body = await JsonNode.ParseAsync(http.Request.Body);
            Secrets[name] = body!["value"]!.GetValue<string>();
            return Results.Json(SecretBody(name, Secrets[name]));
        });
    }

    private IResult GetServer(string name, HttpContext http)
    {
        if (!RequireBearer(http))
        {
            return Results.Empty;
        }

        if (!Servers.TryGetValue(name, out var server) || (server.HiddenPolls > 0 && server.HiddenPolls-- > 0))
        {
            return Results.Json(new { error = new { code = "ResourceNotFound", message = $"The Resource '{name}' was not found." } }, statusCode: 404);
        }

        if (server.Properties["state"]!.GetValue<string>() == "Provisioning" && --server.PollsLeft <= 0)
        {
            server.Properties["state"] = "Ready";
            server.Properties["fullyQualifiedDomainName"] = $"{name}.postgres.database.azure.com";
            if (server.OperationId is { } id && Operations.TryGetValue(id, out var operation) && operation.Status == "InProgress")
            {
                operation.Status = "Succeeded";
            }
        }

        return Results.Json(Body(name, server));
    }

    private async Task<IResult> PutServerAsync(string name, HttpContext http)
    {
        if (!RequireBearer(http))
        {
            return Results.Empty;
        }

        var body = (await JsonNode.ParseAsync(http.Request.Body))!.AsObject();
        PutBodies[name] = (JsonObject)body.DeepClone();
        var properties = body["properties"]!.AsObject();
        var mode = properties["createMode"]?.GetValue<string>();
        var source = properties["sourceServerResourceId"]?.GetValue<string>() ?? string.Empty;
        // A point-in-time restore needs its time; a geo-restore without one restores the latest geo-backup.
        if (mode is not ("PointInTimeRestore" or "GeoRestore") || !Servers.ContainsKey(source.Split('/')[^1]) ||
            (mode == "PointInTimeRestore" && properties["pointInTimeUTC"] is null))
        {
            return Results.Json(new { error = new { code = "InvalidParameterValue", message = "createMode, sourceServerResourceId and pointInTimeUTC are required" } }, statusCode: 400);
        }

        var sourceServer = Servers[source.Split('/')[^1]];
        var server = new Server
        {
            Location = body["location"]!.GetValue<string>(),
            Tags = body["tags"]?.AsObject().ToDictionary(t => t.Key, t => t.Value!.GetValue<string>()) ?? [],
            Properties = new JsonObject
            {
                ["state"] = "Provisioning",
                ["version"] = "17",
                ["createModeSeen"] = mode,
                ["pointInTimeSeen"] = properties["pointInTimeUTC"]?.GetValue<string>(),
                ["dataEncryption"] = properties["dataEncryption"]?.DeepClone(),
            },
            Identity = body["identity"]?.AsObject(),
            PollsLeft = PollsBeforeReady,
            HiddenPolls = NotFoundPollsAfterPut,
        };
        // A point-in-time restore inherits the source's firewall rules; a geo-restore does not (they must be applied after it).
        if (mode == "PointInTimeRestore")
        {
            foreach (var rule in sourceServer.FirewallRules)
            {
                server.FirewallRules[rule.Key] = rule.Value;
            }
        }

        server.OperationId = NewOperation(name, "InProgress");
        Servers[name] = server;
        // 2025-08-01 Servers_CreateOrUpdate answers 202 only, with both LRO headers and no body (reference §6.2).
        http.Response.Headers["Azure-AsyncOperation"] = $"{BaseUri}subscriptions/{Subscription}/providers/Microsoft.DBforPostgreSQL/locations/{server.Location}/azureAsyncOperation/{server.OperationId}?api-version=2025-08-01";
        http.Response.Headers.Location = $"{BaseUri}subscriptions/{Subscription}/providers/Microsoft.DBforPostgreSQL/locations/{server.Location}/operationResults/{server.OperationId}?api-version=2025-08-01";
        return Results.StatusCode(202);
    }

    private string NewOperation(string serverName, string status)
    {
        var id = Guid.NewGuid().ToString();
        Operations[id] = new Operation { ServerName = serverName, Status = status };
        return id;
    }

    private static object OperationBody(string id, Operation operation) => operation.ErrorCode is null
        ? new { name = id, status = operation.Status, startTime = "2026-04-22T15:00:00Z" }
        : new { name = id, status = operation.Status, startTime = "2026-04-22T15:00:00Z", error = (object)new { code = operation.ErrorCode, message = operation.ErrorMessage } };

    private object Body(string name, Server server) => new
    {
        id = ServerPath(name),
        name,
        type = "Microsoft.DBforPostgreSQL/flexibleServers",
        location = server.Location,
        tags = server.Tags,
        identity = server.Identity,
        properties = server.Properties,
    };

    private object SecretBody(string name, string value) => new
    {
        value,
        id = $"{BaseUri}secrets/{name}/0123456789abcdef",
        attributes = new { enabled = true },
    };

    private static bool RequireBearer(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return true;
        }

        http.Response.StatusCode = 401;
        return false;
    }

    // Key Vault's flow: the first request comes without a token and gets a 401 naming the resource to get one for.
    private static bool Challenge(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return true;
        }

        http.Response.StatusCode = 401;
        http.Response.Headers.WWWAuthenticate = "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000002\", resource=\"https://vault.azure.net\"";
        return false;
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=rcm-pitr-azure-stand-in", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch.AddYears(50), DateTimeOffset.UnixEpoch.AddYears(80));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}

/// <summary>Entra ID cannot run here: a credential that hands out a fixed token and records the scopes asked for.</summary>
public sealed class StaticTokenCredential : TokenCredential
{
    public ConcurrentQueue<string> Scopes { get; } = new();

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        foreach (var scope in requestContext.Scopes)
        {
            Scopes.Enqueue(scope);
        }

        return new AccessToken("test-token", DateTimeOffset.MaxValue.AddDays(-1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
