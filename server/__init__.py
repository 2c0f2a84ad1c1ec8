"""Viva's server. Importing it sets one process-wide default, before numpy can load:

OpenBLAS runs each call on the calling thread (``OPENBLAS_NUM_THREADS=1``). The speech engines
run on threads of their own (``server/voice/workers.py``), several at once; under them
OpenBLAS's own thread pool stalled the whole server in the load run of ``make resilience``
(docs/reliability.md), and on two cores it only oversubscribes them.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
