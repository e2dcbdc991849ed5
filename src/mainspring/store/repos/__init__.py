"""Domain operations over named queries, written once for every dialect. Each takes a `Tx`."""
