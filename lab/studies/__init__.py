"""Studies built on runs: the report's suite and scales, worker sweeps, race statistics,
timelines, comparisons of results files, and one report across several Pythons."""
