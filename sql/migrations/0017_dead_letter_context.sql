-- A pulled WebHotelier availability or rate entry does not carry its room, its
-- rate's room or the property's currency in its own bytes: those come from the
-- feed's key, the rate list and the property. Keep them beside the entry, so
-- `dlq replay` can land it after a fix, and make them part of what identifies a
-- dead letter: two rooms (or two properties) can send byte-identical bad entries,
-- and they are two records, not one.
alter table ops.dead_letters
    add column context jsonb not null default '{}'::jsonb;

comment on column ops.dead_letters.context is
    'What the record needs beside its bytes to be replayed: for a pulled WebHotelier feed entry its room (availability) or rate id, the rate''s room and the property''s currency (rates), and the requested dates; {} when the bytes say everything.';

alter table ops.dead_letters drop constraint dead_letters_source_stream_raw_hash_key;
alter table ops.dead_letters
    add constraint dead_letters_record_unique unique (source, stream, property_code, context, raw_hash);

comment on constraint dead_letters_record_unique on ops.dead_letters is
    'The same bad record seen again bumps attempts; the same bytes from another property, room or rate are another dead letter.';
