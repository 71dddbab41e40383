import PostgresClient

/// Retention for everything that grows with every run: raw observations (by
/// load-date partition) and the ops ledgers, so no state table grows without
/// bound. Rows of running runs are kept whatever their age (a resumed run
/// needs its batches); the run ids deleted take their transform and check
/// rows with them. Each ledger is one DELETE by age, in one transaction.
enum LedgerRetention {
    static func apply(_ settings: NightlySettings, on connection: PostgresConnection) async throws -> [String: Int] {
        let partitions = try await Retention.purgeObservations(
            olderThanDays: settings.observationRetentionDays, on: connection)
        let ari = try await Retention.purgeARI(olderThanDays: settings.observationRetentionDays, on: connection)
        let days = settings.ledgerRetentionDays
        let row = try await connection.transaction { conn in
            try await conn.query(
                """
                with cutoff as (select now() - make_interval(days => $1::int) as at),
                live as (select run_id from ops.runs where status = 'running'),
                runs as (
                    delete from ops.runs r using cutoff
                    where r.started_at < cutoff.at and r.status <> 'running'
                      and (r.night_run_id is null or r.night_run_id not in (select run_id from live))
                    returning r.run_id),
                steps as (delete from ops.transform_steps t where t.run_id in (select run_id from runs) returning 1),
                tcounts as (delete from ops.transform_counts t where t.run_id in (select run_id from runs) returning 1),
                dq as (delete from ops.dq_results d where d.run_id in (select run_id from runs) returning 1),
                batches as (
                    delete from ops.batches b using cutoff
                    where b.landed_at < cutoff.at and b.run_id not in (select run_id from live) returning 1),
                calls as (delete from ops.call_log c using cutoff where c.last_called_at < cutoff.at returning 1),
                pipeline as (
                    delete from ops.pipeline_counts p using cutoff where p.recorded_at < cutoff.at returning 1),
                receipts as (
                    delete from ops.webhook_receipts w using cutoff where w.received_at < cutoff.at returning 1),
                drift as (
                    delete from recon.drift_metrics m using cutoff where m.compared_at < cutoff.at returning 1)
                select (select count(*) from runs), (select count(*) from batches), (select count(*) from calls),
                       (select count(*) from pipeline), (select count(*) from receipts), (select count(*) from drift),
                       (select count(*) from steps) + (select count(*) from tcounts) + (select count(*) from dq)
                """, [days])[0]
        }
        return [
            "observation_partitions_dropped": partitions.count,
            "ari_observations_deleted": ari.observations, "ari_messages_deleted": ari.messages,
            "runs_deleted": try row.decode(Int.self, at: 0), "batches_deleted": try row.decode(Int.self, at: 1),
            "call_log_deleted": try row.decode(Int.self, at: 2),
            "pipeline_counts_deleted": try row.decode(Int.self, at: 3),
            "webhook_receipts_deleted": try row.decode(Int.self, at: 4),
            "drift_metrics_deleted": try row.decode(Int.self, at: 5),
            "transform_rows_deleted": try row.decode(Int.self, at: 6),
        ]
    }
}
