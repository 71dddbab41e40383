-- The message is expanded: in the same transaction as its observations, so a crash
-- before the commit leaves it waiting, and expanding it again writes what was lost.
update staging.ari_messages
set expanded_at = now()
where property_code = current_setting('ota.ari_property')
  and source = current_setting('ota.ari_source')
  and message_key = current_setting('ota.ari_message');
