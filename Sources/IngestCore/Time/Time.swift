// Time: the injected clock (the one place the system clock is read), civil dates and timestamps.
// May call: PostgresClient's calendar arithmetic only.
