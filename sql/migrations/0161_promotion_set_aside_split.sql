-- Continuous promotion sets aside whole micro-batches: every landing transaction
-- the failing batch read. One bad row would then hold back everything that landed
-- in the same half second until the next transform. So a batch of several landing
-- transactions that fails is split: the promoter tries its halves again at once,
-- one after the other, halving again whatever half fails, until only the landing
-- transactions that fail on their own stay set aside.

alter table ops.promotion_set_aside add column split_group bigint;

comment on column ops.promotion_set_aside.split_group is
    'Rows set aside together with other landing transactions of one failed micro-batch, not yet tried apart: the promoter tries such a group again in halves (the newest group first), so only the transactions that fail alone stay set aside. NULL once they were tried alone or became due after a transform.';
