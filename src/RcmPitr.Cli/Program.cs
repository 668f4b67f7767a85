using RcmPitr.Cli;

return await CliApp.RunAsync(args, http: null, Console.Out, Console.Error);
