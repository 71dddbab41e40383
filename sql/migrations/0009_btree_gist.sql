-- Equality on text and dates inside GiST indexes, for the exclusion
-- constraints that keep versions of one key from overlapping in time.
create extension if not exists btree_gist;
comment on extension btree_gist is 'GiST operator classes for scalar types; used by the no-overlap exclusion constraints of facts.*.';
