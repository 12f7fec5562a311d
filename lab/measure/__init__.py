"""Measuring helpers: memory per worker, spreads and statistics, lock costs, the environment."""
