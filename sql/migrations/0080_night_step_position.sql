-- A night's steps in the order they run. A resumed night begins again the
-- steps that failed or never finished (migrate always), which restarts their
-- started_at, so start times alone list a resumed night's steps out of order.
-- The nightly records each step's place in its plan; `ota-ingest status`
-- lists the steps by it.

alter table ops.runs add column step_position integer;

comment on column ops.runs.step_position is
    'For a step of a nightly (command "nightly: STEP"): its place in the night''s plan, 1 for migrate; NULL for every other run.';
