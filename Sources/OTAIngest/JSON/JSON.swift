// JSON: the byte-level scanner records are read with, without building objects.
// May call: nothing of ours.
