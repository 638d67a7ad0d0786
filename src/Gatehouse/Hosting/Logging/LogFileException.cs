namespace Gatehouse.Hosting.Logging;

/// <summary>The log file (log_file, -log-file) cannot be created or opened at start-up. Start-up stops.</summary>
internal sealed class LogFileException(string message, Exception inner) : Exception(message, inner);
