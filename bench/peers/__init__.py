"""The peers: other frameworks' own optimizers, run as bench optimizers.

`catalog` names the pinned packages and their optimizers; `install` builds one venv
per package in the cache dir; `gateway` is the counting OpenAI-compatible proxy (and
feedback endpoint) a peer talks to; `run` starts a peer's driver (`drivers/`, run by
the peer venv's python) and brings its final prompt back; `conformance` compares the
simulator's reading of the peers' stock requests with its reading of undertow's.
Docs: docs/peers.md.
"""

from undertow.bench.peers.catalog import OPTIMIZERS, PACKAGES, PeerOptimizer, PeerPackage
from undertow.bench.peers.install import is_installed, list_peers, peers_root
from undertow.bench.peers.run import PeerResult, run_peer

__all__ = ["OPTIMIZERS", "PACKAGES", "PeerOptimizer", "PeerPackage", "PeerResult", "is_installed", "list_peers", "peers_root", "run_peer"]
