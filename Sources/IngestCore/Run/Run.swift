// Run: the run scope and ops.runs (the only writer), counters, the summary, the log, the progress line, memory.
// May call: PostgresClient, Time. Nothing here knows a connector, a stream's parsing or a command.
