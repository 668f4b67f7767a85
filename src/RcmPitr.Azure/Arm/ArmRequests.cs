using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;

namespace RcmPitr.Azure.Arm;

/// <summary>
/// The process's <see cref="ArmClient"/> pipeline (bearer token for the ARM audience, its transport and options) for the
/// few calls generic resources do not cover: an async operation's status, a child collection's list. Resource providers'
/// own SDKs reach it the same way, by deriving from <see cref="ArmResource"/>.
/// </summary>
internal sealed class ArmRequests(ArmClient client, ResourceIdentifier id) : ArmResource(client, id)
{
    /// <summary>The client's pipeline.</summary>
    public HttpPipeline Http => Pipeline;
}
