using System.Text.Json;
using System.Text.Json.Nodes;

namespace RcmPitr.Engine.Replay;

/// <summary>
/// The custom status of an instance whose orchestrator code changed under it. The last status the run set (its
/// timeline) is kept as it was, so it still shows what the run did; <c>phase</c>, <c>error</c> and
/// <c>operatorAction</c> say that the run stopped and that a person must finish or undo it. Only the divergence
/// (event positions, action kinds and names) goes in: never inputs or results.
/// </summary>
internal static class DivergedStatus
{
    /// <summary>What a person must do, in words that hold for any orchestrator.</summary>
    public const string OperatorAction =
        "The orchestration code changed under this in-flight run: the deployed code no longer replays what the run had " +
        "already done, so the engine stopped it here. Nothing was undone automatically; whatever the run did is still in " +
        "place (a tenant it froze stays frozen, databases and servers it created still exist). The timeline shows each " +
        "step the run took and how far it got. An operator must finish or undo the run by hand.";

    /// <summary>
    /// <paramref name="last"/> with the failure merged in when it is a JSON object; a new object when there was no
    /// status; otherwise <paramref name="last"/> unchanged (the failure message still says what diverged).
    /// </summary>
    public static JsonElement? Merge(JsonElement? last, string divergence)
    {
        JsonObject status;
        switch (last)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                status = [];
                break;
            case { ValueKind: JsonValueKind.Object } value:
                status = JsonObject.Create(value)!.DeepClone().AsObject();
                break;
            default:
                return last;
        }

        status["phase"] = "failed";
        status["error"] = divergence;
        status["operatorAction"] = OperatorAction;
        if (status.ContainsKey("awaitingApproval"))
        {
            // A stopped run waits for no decision.
            status["awaitingApproval"] = false;
        }

        return JsonSerializer.SerializeToElement(status);
    }
}
