-- The batch's messages are expanded: in the same transaction as their observations, so
-- a crash before the commit leaves them waiting, and expanding them again writes what
-- was lost.
update staging.ari_messages m
set expanded_at = now()
from ari_batch b
where (m.property_code, m.source, m.message_key) = (b.property_code, b.source, b.message_key);
