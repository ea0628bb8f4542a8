using GcpStreams.Ops;

// make ledger-check / make secrecy-scan (README, "Checks against any cluster")
return OpsCommands.Run(args, Console.Out, Console.Error);
