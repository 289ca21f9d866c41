"""Timing probe for the exchange-log Merkle tree (やりとり履歴の改ざん検知ログ).

Appends 1,000,000 leaves, then times 1,000 inclusion proofs at random indices
against the full tree, and prints one JSON object. Run from a checkout with
``python bench/merkle_probe.py [LEAVES] [PROOFS]``.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

try:
    from kojin.audit.merkle import MemoryNodeStore, MerkleTree, verify_inclusion
except ModuleNotFoundError:  # a checkout that was never pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from kojin.audit.merkle import MemoryNodeStore, MerkleTree, verify_inclusion


def main(leaves: int = 1_000_000, proofs: int = 1_000) -> dict[str, float | int]:
    records = [b"exchange-record-%d" % i for i in range(leaves)]
    rng = random.Random(9162)

    store = MemoryNodeStore()
    tree = MerkleTree(store)
    # Leaf hashing is included: it is part of every real append.
    started = time.perf_counter()
    for record in records:
        tree.append_data(record)
    append_s = time.perf_counter() - started

    indices = [rng.randrange(leaves) for _ in range(proofs)]
    timings = []
    paths = []
    for index in indices:
        t0 = time.perf_counter()
        paths.append(tree.inclusion_proof(index))
        timings.append(time.perf_counter() - t0)

    # Historical sizes are what an old signed tree head needs; time them too.
    historical = [(rng.randrange(1, leaves + 1),) for _ in range(proofs)]
    t0 = time.perf_counter()
    for (size,) in historical:
        tree.inclusion_proof(rng.randrange(size), size)
    historical_ms = (time.perf_counter() - t0) * 1000 / proofs

    t0 = time.perf_counter()
    for (size,) in historical:
        tree.consistency_proof(size)
    consistency_ms = (time.perf_counter() - t0) * 1000 / proofs

    root = tree.root()
    assert all(
        verify_inclusion(tree.leaf_hash(i), i, leaves, p, root) for i, p in zip(indices[:50], paths[:50], strict=True)
    )

    timings.sort()
    return {
        "leaves": leaves,
        "appends_per_s": round(leaves / append_s),
        "proof_ms_mean": round(sum(timings) * 1000 / proofs, 4),
        "proof_ms_p99": round(timings[int(proofs * 0.99) - 1] * 1000, 4),
        "historical_proof_ms_mean": round(historical_ms, 4),
        "consistency_proof_ms_mean": round(consistency_ms, 4),
        "node_store_mb": round(store.nbytes / 1e6, 1),
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(main(*args)))
