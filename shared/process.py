"""What a long-lived process does once it has started.

Start-up leaves a large heap behind that lives as long as the process: every imported module,
botocore's parsed service models, PynamoDB's clients, the templates (and, in the engine, moto
and the tables it recovered). Python's cyclic garbage collector walks all of it again on every
full collection: 60 to 90 ms here, landing on whatever request or batch happens to allocate
next (the demo seed lost 87 ms to one, the engine 62 ms). `gc.freeze()` moves what exists now
out of the collector's reach. Refcounting still frees those objects as usual; only a cycle
among them would never be found, hence one full collection just before.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_settled = False


def settle_start_up_heap() -> bool:
    """Collect once, then freeze what survived. Once per process: the first caller is the end
    of start-up (the CLI once wired, the app once its clients exist, the engine before it
    serves); a later call would freeze what the process holds by then, which in a test run is
    one app after another. Returns whether this call did it."""
    global _settled
    with _lock:
        if _settled:
            return False
        gc.collect()
        gc.freeze()
        _settled = True
        return True
