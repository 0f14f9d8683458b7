"""`python -m bao.integrations.verl.check`: did verl load bao's plugin? Exit 0 if so, 1 with the reason if not.

It imports verl only, as a training process does, so it sees what verl's entry-point loading registered; when
something is missing it imports the plugin itself, so that the error verl swallowed is printed.
"""

from __future__ import annotations

import sys
import traceback

from bao.integrations.verl.settings import ESTIMATORS

AGENT_LOOP = "bao"


def missing() -> list[str]:
    """What verl's registries lack of bao's: estimator names and the agent loop (empty when all registered)."""
    from verl.experimental.agent_loop.agent_loop import _agent_loop_registry
    from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY

    out = [f"estimator {name}" for name in ESTIMATORS if name not in ADV_ESTIMATOR_REGISTRY]
    return out + ([] if AGENT_LOOP in _agent_loop_registry else [f"agent loop {AGENT_LOOP}"])


def main() -> int:
    import verl

    lacking = missing()
    if not lacking:
        print(f"verl {verl.__version__}: bao's plugin is registered (estimators {', '.join(ESTIMATORS)}; "
              f"agent loop {AGENT_LOOP})")
        return 0
    print(f"verl {verl.__version__} did not register bao's {', '.join(lacking)}.", file=sys.stderr)
    try:
        import bao.integrations.verl.plugin  # noqa: F401
    except Exception:
        print("Importing the plugin fails:", file=sys.stderr)
        traceback.print_exc()
    else:
        print("The plugin imports: is bao installed in this environment (its entry point `verl.plugins`), and is "
              "VERL_USE_EXTERNAL_PLUGINS unset or does it name bao?", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
