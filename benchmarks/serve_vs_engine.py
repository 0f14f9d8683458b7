"""Generation speed of the embedded model behind llama.cpp's server (`bao serve`) against bao's torch engine.

Same episodes (the first `--episodes` test tasks of `--env`, seed 0, up to `--max-turns` turns of up to
`--max-new-tokens` tokens), same prompts (the server is asked in bao's text tool format, which is what the
engine renders), same sampling settings, same number of threads. Configurations, by name:
- server-C: a fresh llama.cpp server (Q4_1 GGUF) with C requests in flight (`server-1`: one at a time;
  the server itself answers one at a time, so `server-16` measures its queue, not a batch);
- engine-B: bao's rollout engine (fp32, dequantised from the same GGUF) with B episodes in flight, run by
  `benchmarks/rollout.py` in its own process.
Figures: generated tokens (the server's `usage.completion_tokens`, the engine's sampled ids) per second of wall
time, prompt reading included, and ratios: each configuration over the first, and server over engine at the
same width. The machine's load average is printed: on a shared 2-core machine other jobs change every figure.
Without llama-cpp-python (`--python` or $BAO_LLAMA_PYTHON) the benchmark says so and exits 0 (`make bench`).

    python benchmarks/serve_vs_engine.py [--configs server-1,server-16,engine-1,engine-16 --episodes 16
                                          --max-turns 3 --max-new-tokens 64 --temperature 0.7 --threads 2
                                          --python /work/llama-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure_server(args: argparse.Namespace, concurrency: int) -> dict:
    """Play the episodes through a fresh llama.cpp server with `concurrency` requests in flight."""
    from bao.cli.serve import LlamaServer, ServeConfig
    from bao.envs import make
    from bao.llm_client import ChatClient, ClientConfig
    from bao.policies.openai_api import OpenAIPolicy, OpenAIPolicyConfig
    from bao.policies.sampling import SamplingConfig
    from bao.rollout.episodes import run_episodes

    class CountingClient(ChatClient):
        """Adds up the completion tokens the server reports."""

        generated = 0
        lock = threading.Lock()

        def chat(self, request: dict) -> dict:
            answer = super().chat(request)
            with self.lock:
                self.generated += (answer.get("usage") or {}).get("completion_tokens", 0)
            return answer

    serve = ServeConfig(port=_free_port(), threads=args.threads, python=args.python)
    client_config = ClientConfig(base_url=serve.base_url, concurrency=concurrency, timeout=3600.0, max_retries=0)
    client = CountingClient(client_config)
    sampling = SamplingConfig(temperature=args.temperature, max_new_tokens=args.max_new_tokens)
    policy = OpenAIPolicy(OpenAIPolicyConfig(serve.alias, client_config, "text", sampling), client)
    jobs = [(task, 0) for task in make(args.env).tasks("test")[: args.episodes]]
    with tempfile.TemporaryFile("w+") as log, LlamaServer(serve, log=log):
        start = time.perf_counter()
        trajectories = run_episodes(lambda: make(args.env, max_steps=args.max_turns), policy, jobs)
        seconds = time.perf_counter() - start
    return {
        "config": f"server-{concurrency}",
        "episodes": len(trajectories),
        "turns": sum(t.n_turns for t in trajectories),
        "tokens": client.generated,
        "seconds": round(seconds, 1),
        "tok_s": round(client.generated / seconds, 2),
        "invalid": sum(turn.kind == "invalid" for t in trajectories for turn in t.turns),
        "load": round(os.getloadavg()[0], 1),
    }


def measure_engine(args: argparse.Namespace, config: str) -> dict:
    """One `benchmarks/rollout.py` configuration in its own process, on `--threads` threads."""
    argv = [sys.executable, str(HERE / "rollout.py"), "--only", config, "--env", args.env,
            "--episodes", str(args.episodes), "--max-turns", str(args.max_turns),
            "--max-new-tokens", str(args.max_new_tokens), "--temperature", str(args.temperature)]
    threads = str(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
           "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    child = subprocess.run(argv, capture_output=True, text=True, env=env)
    if child.returncode:
        raise RuntimeError(f"{config} failed:\n{child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="function")
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="for the server and for torch")
    parser.add_argument("--python", default=os.environ.get("BAO_LLAMA_PYTHON"),
                        help="interpreter that has llama-cpp-python (default $BAO_LLAMA_PYTHON)")
    parser.add_argument("--configs", default="server-1,server-16,engine-1,engine-16",
                        help="configurations separated by commas; the first is the baseline of the ratios")
    args = parser.parse_args()

    from bao.cli.serve import check_llama_cpp
    from bao.policies.models import DEFAULT_MODEL, ModelError, gguf_path, resolve

    configs = args.configs.split(",")
    if any(c.startswith("server-") for c in configs):
        if not args.python:
            print("skipped: no interpreter with llama-cpp-python (pass --python or set $BAO_LLAMA_PYTHON)")
            return 0
        try:
            check_llama_cpp(args.python)
        except ModelError as exc:
            print(f"skipped: {exc}")
            return 0
        gguf_path(DEFAULT_MODEL)  # fetched once, before anything is timed
    if any(c.startswith("engine-") for c in configs):
        resolve(DEFAULT_MODEL)
    rows = []
    for config in configs:
        kind, width = config.split("-")
        rows.append(measure_server(args, int(width)) if kind == "server" else measure_engine(args, config))
        print(json.dumps(rows[-1]), flush=True)
    _print_table(args, rows)
    return 0


def _print_table(args: argparse.Namespace, rows: list[dict]) -> None:
    from bao.policies.models import DEFAULT_MODEL

    base = rows[0]
    print(f"\n{DEFAULT_MODEL} on {args.env}: {args.episodes} episodes, <= {args.max_turns} turns, <= "
          f"{args.max_new_tokens} tokens a turn, temperature {args.temperature}, {args.threads} threads; "
          f"ratios over {base['config']}")
    print(f"{'config':<10} {'turns':>5} {'invalid':>7} {'tokens':>7} {'s':>7} {'tok/s':>7} {'ratio':>7} {'load':>5}")
    for r in rows:
        print(f"{r['config']:<10} {r['turns']:>5} {r['invalid']:>7} {r['tokens']:>7} {r['seconds']:>7} "
              f"{r['tok_s']:>7} {r['tok_s'] / base['tok_s']:>6.2f}x {r['load']:>5}")
    by_name = {r["config"]: r for r in rows}
    for name, row in by_name.items():
        engine = by_name.get(name.replace("server-", "engine-"))
        if name.startswith("server-") and engine:
            print(f"llama.cpp server / torch engine at width {name.split('-')[1]}: "
                  f"{row['tok_s'] / engine['tok_s']:.2f}x tok/s")


if __name__ == "__main__":
    sys.exit(main())
