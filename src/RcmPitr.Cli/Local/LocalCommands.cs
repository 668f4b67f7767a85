using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RcmPitr.Local;
using RcmPitr.Postgres.Processes;

namespace RcmPitr.Cli.Local;

/// <summary><c>rcm-pitr local up | status | down | backup</c>: the local environment.</summary>
internal static class LocalCommands
{
    public static Option<string> HomeOption() => new("--home")
    {
        Description = $"The local environment's folder (default {LocalLayout.DefaultHome})",
        DefaultValueFactory = _ => LocalLayout.DefaultHome,
    };

    public static Command Create(TextWriter output)
    {
        var local = new Command("local", "Set up, inspect and tear down a local environment whose point-in-time restore is real (WAL archive + base backups).");
        local.Subcommands.Add(Up(output));
        local.Subcommands.Add(Status(output));
        local.Subcommands.Add(Down(output));
        local.Subcommands.Add(Backup(output));
        return local;
    }

    public static LocalEnvironment Environment(string home) => new(new LocalLayout(home), new ProcessRunner(), TimeProvider.System);

    private static Command Up(TextWriter output)
    {
        var home = HomeOption();
        var command = new Command("up", "Create the environment (or start what is stopped): live cluster, master and state databases, sample tenants, API keys, host configuration.") { home };
        command.SetAction(async (parse, ct) =>
        {
            var environment = Environment(parse.GetValue(home)!);
            var (state, created) = await environment.UpAsync(output, ct);
            await output.WriteLineAsync(created ? "local environment created" : "local environment is up");
            await output.WriteLineAsync($"  live cluster: 127.0.0.1:{state.LivePort} (user {state.AdminUser}; password in {environment.Layout.SecretsFile} as {state.AdminSecretRef})");
            await output.WriteLineAsync($"  earliest restorable time: {environment.Backups.EarliestRestorableTime:O}");
            await output.WriteLineAsync($"  serve the API: ./rcm-pitr serve --config {environment.Layout.HostConfig}   (listens on {state.ApiUrl})");
            await output.WriteLineAsync($"  then: export RCMPITR_URL={state.ApiUrl} RCMPITR_KEY=$(cat {environment.Layout.KeyFile("alice")})");
            return 0;
        });
        return command;
    }

    private static Command Status(TextWriter output)
    {
        var home = HomeOption();
        var json = new Option<bool>("--json") { Description = "Machine-readable output" };
        var command = new Command("status", "Connection details, WAL archive and backups, earliest restorable time, API URL and keys.") { home, json };
        command.SetAction(async (parse, ct) =>
        {
            var status = await Environment(parse.GetValue(home)!).StatusAsync(ct);
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(status, Json));
                return 0;
            }

            await output.WriteLineAsync($"home:            {status.Home}");
            await output.WriteLineAsync($"live cluster:    {status.Host}:{status.Port} ({(status.Running ? "running" : "stopped")}), user {status.User}");
            await output.WriteLineAsync($"databases:       master {status.MasterDatabase}, engine state {status.StateDatabase}, tenants {string.Join(", ", status.TenantDatabases)}");
            await output.WriteLineAsync($"WAL archive:     {status.WalArchive}");
            await output.WriteLineAsync($"base backups:    {status.Backups.Count} in {status.BackupsDirectory}");
            await output.WriteLineAsync($"restorable from: {status.EarliestRestorableTime:O}");
            foreach (var server in status.RestoredServers)
            {
                await output.WriteLineAsync($"restored server: {server}");
            }

            await output.WriteLineAsync($"API:             {status.ApiUrl} (keys in {System.IO.Path.Combine(status.Home, "keys")})");
            return 0;
        });
        return command;
    }

    private static Command Down(TextWriter output)
    {
        var home = HomeOption();
        var purge = new Option<bool>("--purge") { Description = "Also delete the folder (data, backups, WAL archive, keys)" };
        var command = new Command("down", "Stop the live cluster and every restored server.") { home, purge };
        command.SetAction(async (parse, ct) =>
        {
            await Environment(parse.GetValue(home)!).DownAsync(parse.GetValue(purge), output, ct);
            return 0;
        });
        return command;
    }

    private static Command Backup(TextWriter output)
    {
        var home = HomeOption();
        var retention = new Option<TimeSpan>("--retention") { Description = "Prune backups older than this (the newest is always kept); default 7 days", DefaultValueFactory = _ => TimeSpan.FromDays(7) };
        var command = new Command("backup", "Take a base backup now and prune old ones; the earliest restorable time follows.") { home, retention };
        command.SetAction(async (parse, ct) =>
        {
            var (taken, pruned) = await Environment(parse.GetValue(home)!).BackupAsync(parse.GetValue(retention), ct);
            await output.WriteLineAsync($"base backup {taken.Name}: {taken.SizeBytes.ToString(CultureInfo.InvariantCulture)} bytes, consistent by {taken.FinishedAt:O}");
            await output.WriteLineAsync($"pruned {pruned.RemovedBackups.Count}; earliest restorable time {pruned.EarliestRestorableTime:O}");
            return 0;
        });
        return command;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
