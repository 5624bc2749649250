"""Tools for the tests and the benchmarks, kept out of the shipped package and the image:
synthetic corpora and the link scorer (evaluation), throw-away databases (databases)."""
