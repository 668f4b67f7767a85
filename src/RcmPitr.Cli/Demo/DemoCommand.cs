using System.CommandLine;

namespace RcmPitr.Cli.Demo;

/// <summary><c>rcm-pitr demo</c>: the runbook's first scenario, end to end, on the local environment.</summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var home = Local.LocalCommands.HomeOption();
        var keep = new Option<bool>("--keep") { Description = "Leave the local environment running afterwards, for exploration" };
        var command = new Command("demo",
            "Set up the local environment if needed, then: a bad migration hits tenant acme after T while its sibling keeps writing; " +
            "restore acme to T through the API, approve as a second person, and verify acme equals its state at T and the sibling is untouched.")
        { home, keep };
        command.SetAction((parse, ct) => new DemoRunner(output, error).RunAsync(parse.GetValue(home)!, parse.GetValue(keep), ct));
        return command;
    }
}
