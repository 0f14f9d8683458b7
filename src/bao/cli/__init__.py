"""The `bao` command line."""

import os

# Torch's OpenMP threads spin while they wait; on a 2-core machine shared with other jobs that spinning slows
# LLM rollouts several-fold (measured 3 vs 15 tok/s at batch 8). It must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
