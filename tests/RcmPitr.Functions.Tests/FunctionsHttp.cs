using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using RcmPitr.Api;
using RcmPitr.Functions.Composition;
using RcmPitr.Functions.Http;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Tests;

/// <summary>HTTP requests to the triggers and their answers as a client would see them.</summary>
internal static class FunctionsHttp
{
    /// <summary>A request with <paramref name="body"/>; signed in as <paramref name="signedInAs"/> (a client principal for that name) when given.</summary>
    public static HttpRequest Request(string body, string? signedInAs = null, string contentType = "application/json")
    {
        var context = new DefaultHttpContext { RequestServices = Services() };
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("rcm-pitr.azurewebsites.net");
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        context.Request.ContentLength = Encoding.UTF8.GetByteCount(body);
        context.Response.Body = new MemoryStream();
        if (signedInAs is not null)
        {
            context.Request.Headers[Http.RestoreHttpFunctions.PrincipalHeader] =
                ClientPrincipals.Blob(ClientPrincipals.OidOf(signedInAs), signedInAs, "RcmPitr.Requester", "RcmPitr.Approver");
        }

        return context.Request;
    }

    /// <summary>Runs the trigger's answer: status, headers and body text.</summary>
    public static async Task<(int Status, IHeaderDictionary Headers, string Body)> ExecuteAsync(Task<IActionResult> action)
    {
        var result = await action;
        var context = new DefaultHttpContext { RequestServices = Services() };
        context.Response.Body = new MemoryStream();
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor()));
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, context.Response.Headers, await new StreamReader(context.Response.Body).ReadToEndAsync());
    }

    /// <summary>The HTTP triggers over a real master database; Azure, Key Vault and the provisioner are never reached.</summary>
    public static RestoreHttpFunctions Functions(ControlPlaneDatabase master, StartRateLimiter? limiter = null) =>
        new(new TenantResolver(master, Mock.Of<ISecretStore>(MockBehavior.Strict)), Mock.Of<IServerProvisioner>(MockBehavior.Strict), new RestoreSettings(), TimeProvider.System,
            new AuthOptions(), limiter ?? new StartRateLimiter(new StartRateLimitOptions(), TimeProvider.System), new DecisionLog(master), new TenantRunLock(master),
            parityReports: new ParityReportStore(master), changeReports: new ChangeReportStore(master));

    private static ServiceProvider Services() => new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
}
