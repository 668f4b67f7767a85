using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace RcmPitr.Functions.Http;

/// <summary>Runs a minimal-API <see cref="IResult"/> as an MVC result, so both hosts share one implementation of each answer.</summary>
internal sealed class ResultActionResult(IResult result) : IActionResult
{
    public IResult Result { get; } = result;

    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Result.ExecuteAsync(context.HttpContext);
    }
}
