-- facts.reservation_nights no longer refers to facts.reservations by a foreign
-- key. The transforms write both in one transaction from the same versions;
-- the key's trigger checked every night against its version one row at a time
-- (56 us a night, three quarters of inserting them), and continuous promotion
-- pays that on every micro-batch. What it guaranteed is now checked set-wise
-- (sql/checks/15_nights_have_versions.sql, over the keys each run touched), and
-- what its cascade did, sql/transforms/31_reservations.sql does: the nights of a
-- version that is gone are deleted with it.
alter table facts.reservation_nights drop constraint reservation_nights_version_fkey;
