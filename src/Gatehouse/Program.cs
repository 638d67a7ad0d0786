using Gatehouse.Hosting;

// Composition root only: args → command → exit code.
return await GatehouseCommand.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
