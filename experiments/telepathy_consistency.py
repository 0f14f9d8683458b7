"""Does a telepathy agent eliminate, or only write the form of elimination?

Replays each evaluated episode against the knowledge base (as the scripted heuristic and the teacher do) and
counts, at every turn, how many of the names the agent wrote in its Alive list and how many of its guesses
were still consistent with the answers it had been given (and not already guessed wrong). A teacher's are
all consistent; an agent that only imitates the form names entities the answers ruled out.

    python experiments/telepathy_consistency.py EVAL_DIR/trajectories.jsonl [...]
"""

from __future__ import annotations

import argparse

from bao.agent.behaviors import try_parse_behavior
from bao.core.types import read_jsonl
from bao.envs.telepathy import knowledge_base
from bao.policies.base import history_of
from bao.policies.scripted.telepathy import replay


def count(path: str) -> dict[str, int]:
    titles = {e.title for e in knowledge_base().entities}
    counts = dict.fromkeys(("names", "names_in_kb", "names_consistent", "guesses", "guesses_in_kb",
                            "guesses_consistent"), 0)
    for traj in read_jsonl(path):
        for played, turn in enumerate(traj.turns):
            alive = {e.title for e in replay(history_of(traj.turns[:played])).alive}
            behavior = try_parse_behavior(turn.reasoning or "")  # None: reasoning off the grammar
            names = [n for n in behavior.alive if not n.endswith(" candidates")] if behavior else []
            guesses = [turn.content] if turn.kind == "answer" else []
            for kind, items in (("names", names), ("guesses", guesses)):
                counts[kind] += len(items)
                counts[f"{kind}_in_kb"] += sum(n in titles for n in items)
                counts[f"{kind}_consistent"] += sum(n in alive for n in items)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trajectories", nargs="+", help="trajectories.jsonl files written by `bao eval telepathy`")
    for path in parser.parse_args().trajectories:
        c = count(path)
        print(f"{path}: Alive names {c['names']} (knowledge-base entities {c['names_in_kb']}, consistent with the "
              f"answers {c['names_consistent']}); guesses {c['guesses']} (entities {c['guesses_in_kb']}, "
              f"consistent {c['guesses_consistent']})")


if __name__ == "__main__":
    main()
