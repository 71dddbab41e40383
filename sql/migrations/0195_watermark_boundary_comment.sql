-- What ops.watermarks.boundary_keys holds, as it is written.
comment on column ops.watermarks.boundary_keys is
    'The records landed at exactly updated_after, each as its key and content hash (hex) separated by a space, in landing order, so an inclusive re-read neither loses nor doubles them.';
