"""`lab bench`: the lab's question answered for the user's own function.

    from lab.benching import bench
    result = bench(resize, paths, workers=[1, 2, 4])
    print(result.verdict[0])          # Fastest: processes at 2 workers: 1.9x (CPU use 2.0 cores), ...
    result.rows                       # one `Row` per model and worker count, as the JSON holds them

The function runs serially (the baseline), in threads and in processes; the same job written as
a coroutine function (`async_function`) runs in asyncio. See `lab.benching.run.bench`.
"""

from lab.benching.records import SERIAL, Bench, Row
from lab.benching.run import bench

__all__ = ["SERIAL", "Bench", "Row", "bench"]
