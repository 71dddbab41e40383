-- The warehouse's layers, one schema each. Data flows left to right:
-- staging (raw, as received) -> facts (versioned) -> recon (drift) -> feeds.
create schema staging;
comment on schema staging is
    'Raw landing, append-only: every record exactly as an OTA sent it, with load metadata. Holds personal data: not for analysts.';

create schema dims;
comment on schema dims is
    'Reference data (properties with currency and time zone, rooms, rate plans, channels, FX rates), loaded from seeds/*.csv.';

create schema facts;
comment on schema facts is
    'Versioned (SCD type 2) fact tables promoted from staging: reservations, reservation nights, availability, rates.';

create schema recon;
comment on schema recon is
    'Reconciliation: snapshots of the OTA''s authoritative state and drift metrics against facts.';

create schema feeds;
comment on schema feeds is
    'Views and functions for pricing and ML pipelines, including point-in-time (as-of) reads.';
