-- Comments for the loading columns that had none, so every column an analyst
-- or operator meets in \d+ (and in docs/data-dictionary.md) says what it is.
comment on column staging.availability_observations.source is 'The configured source name, e.g. webhotelier.';
comment on column staging.availability_observations.property_code is 'The OTA''s property code.';
comment on column staging.availability_observations.batch_id is 'The batch this row landed in (see ops.batches).';
comment on column staging.availability_observations.run_id is 'The run that landed it (see ops.runs).';
comment on column staging.rate_observations.source is 'The configured source name, e.g. webhotelier.';
comment on column staging.rate_observations.property_code is 'The OTA''s property code.';
comment on column staging.rate_observations.stay_date is 'The night.';
comment on column staging.rate_observations.batch_id is 'The batch this row landed in (see ops.batches).';
comment on column staging.rate_observations.run_id is 'The run that landed it (see ops.runs).';
comment on column ops.watermarks.source is 'The configured source name.';
comment on column ops.watermarks.stream is 'reservations, availability, rates, inventory.';
comment on column ops.watermarks.property_code is 'The property, or empty for sources without one.';
comment on column ops.call_log.source is 'The configured source name.';
comment on column ops.call_log.property_code is 'The property the call was for.';
comment on column ops.call_log.endpoint is 'The rate-limited endpoint, e.g. reservation/new or manage/rates.';
comment on column ops.call_log.last_called_at is 'When it was last called.';
comment on column ops.dead_letters.dead_letter_id is 'Identity of the dead letter.';
comment on column ops.dead_letters.source is 'The configured source name.';
comment on column ops.dead_letters.stream is 'reservations, availability, rates, inventory.';
comment on column ops.dead_letters.property_code is 'The property, or empty when unknown.';
comment on column ops.dead_letters.first_seen is 'When it was first refused.';
comment on column ops.dead_letters.last_seen is 'When it was last refused.';
comment on column ops.dead_letters.run_id is 'The run that refused it last.';
comment on column ops.dead_letters.batch_id is 'The batch it came in, when known.';
