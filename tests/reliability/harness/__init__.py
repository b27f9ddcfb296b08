"""The reliability suite's machinery, shared by tests/reliability and
benchmarks/reliability.py: real subprocesses killed at random, loopback servers that
misbehave, and digests that say whether a store or a site converged."""

from .data import ROOT, jetstream_events, legacy_posts, snapshot_file
from .digest import compare, differences, integrity_check, store_rows, tree_digest
from .procs import Finished, Killed, hp_env, kill_after, run_hp
from .servers import FAULTS, EchoServer, FaultServer, Jetstream, Reply
from .sources import SECRETS, SOURCES, healthy, source_settings

__all__ = [
    "FAULTS", "ROOT", "SECRETS", "SOURCES", "EchoServer", "FaultServer", "Finished",
    "Jetstream", "Killed", "Reply", "compare", "differences", "healthy", "hp_env",
    "integrity_check", "jetstream_events", "kill_after", "legacy_posts", "run_hp",
    "snapshot_file", "source_settings", "store_rows", "tree_digest",
]
