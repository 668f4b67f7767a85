using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;

namespace RcmPitr.Azure.Arm;

/// <summary>Builds the process's one <see cref="ArmClient"/>: pinned api-version, SDK retries off (Polly owns transient faults).</summary>
public static class ArmClientFactory
{
    /// <summary>The flexible server resource type.</summary>
    public static readonly ResourceType FlexibleServers = new("Microsoft.DBforPostgreSQL/flexibleServers");

    /// <summary>Creates the client. <paramref name="transport"/> replaces the HTTP transport (tests).</summary>
    public static ArmClient Create(TokenCredential credential, AzureArmOptions options, HttpPipelineTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientOptions = new ArmClientOptions { Environment = new ArmEnvironment(options.Endpoint, options.Audience) };
        // Pre-seeds the api-version cache, so no provider look-up happens and a preview version is never picked.
        clientOptions.SetApiVersion(FlexibleServers, options.ApiVersion);
        // One retry layer per fault class: transient ARM faults are retried by the provisioner's Polly pipeline.
        clientOptions.Retry.MaxRetries = 0;
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        return new ArmClient(credential, options.SubscriptionId, clientOptions);
    }
}
