-- What the raw column of a pushed ARI state holds, said exactly. The expansion
-- (sql/ari/) takes a batch of messages of one hotel and source at a time, and a
-- state is written in the name of its own message when that message is in the
-- batch, else of the batch's first message on the cell (a late message rewrites
-- the states after it). The comments of 0003 and 0174 said less, or approximately.
-- No table changes.

comment on column staging.availability_observations.raw is
    'The feed entry as received, as JSON text (a from/to range entry is repeated on each of its nights). For a pushed state (origin push): {"state_after_message": the message it is the state after, "written_by_message": the message in whose name the expansion wrote it, which is that same message when it was expanded in the same batch, else the batch''s first message on the cell, whose earlier time rewrote the states after it}. Text, not jsonb: the typed columns are the parsed copy, and parsing every observation again costs the load a third of its time; cast with raw::jsonb to query it.';
comment on column staging.rate_observations.raw is
    'The record as received, as JSON text. For a pushed state (origin push): {"state_after_message": the message it is the state after, "written_by_message": the message in whose name the expansion wrote it, which is that same message when it was expanded in the same batch, else the batch''s first message on the cell, whose earlier time rewrote the states after it}. Not jsonb: the typed columns are the parsed copy; cast with raw::jsonb to query it.';
