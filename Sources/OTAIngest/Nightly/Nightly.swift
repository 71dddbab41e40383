// Nightly: the night's plan (migrate, pulls, transform, reconcile, checks, retention, aging) and its report.
// May call: every stage's runner; nothing calls it but the `nightly` command.
