"""`bao serve`: an embedded model's GGUF (SmolLM2 by default) behind llama.cpp's OpenAI-compatible server, offline.

The server is llama-cpp-python's (`python -m llama_cpp.server`). bao does not depend on it: it compiles llama.cpp
from source (several minutes), so it usually lives in its own virtualenv, named with `--python`
or `$BAO_LLAMA_PYTHON`. The GGUF comes from the same pinned PyPI wheel as `bao models pull` (no Hub needed).

What to know when pointing bao at it (printed once the server answers):
- it serves one request at a time (requests queue behind a lock), so a request waits for those before it: give
  bao a long timeout and few concurrent requests (`BAO_LLM_TIMEOUT`, `BAO_LLM_CONCURRENCY`);
- the GGUF's chat template drops `tools`: bao's OpenAI policy notices and switches to its text tool format.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from bao.policies.models import DEFAULT_MODEL, EMBEDDED, ModelError, gguf_path

PYTHON_ENV = "BAO_LLAMA_PYTHON"
INSTALL = "pip install 'llama-cpp-python[server]'"


class ServerUnavailable(ModelError):
    """The server cannot be started (package missing, port taken, model refused); the message says what to do."""


@dataclass
class ServeConfig:
    """Which model to serve, where, and with which interpreter."""

    model: str = DEFAULT_MODEL  # an embedded name (its GGUF is fetched once) or a .gguf file
    host: str = "127.0.0.1"
    port: int = 8080
    n_ctx: int = 8192  # context in tokens (SmolLM2 was trained on 8192; the server's default is 2048)
    threads: int | None = None  # llama.cpp threads for decoding and prompt reading; None = the server's default
    python: str = field(default_factory=lambda: os.environ.get(PYTHON_ENV) or sys.executable)  # has llama_cpp

    @property
    def alias(self) -> str:
        """The model name clients send (the server answers any name; this one shows in `/v1/models`)."""
        return self.model if self.model in EMBEDDED else Path(self.model).stem

    @property
    def client_host(self) -> str:
        """The address a client on this machine connects to (a server on all interfaces is reached locally)."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host

    @property
    def base_url(self) -> str:
        return f"http://{self.client_host}:{self.port}/v1"


def model_file(model: str) -> Path:
    """The GGUF to serve: an embedded model's (fetched once into the cache) or a local `.gguf` file."""
    if model in EMBEDDED:
        return gguf_path(model)
    path = Path(model).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise ModelError(f"bao serve needs an embedded model ({', '.join(EMBEDDED)}) or an existing .gguf file, "
                         f"got {model!r}")
    return path


def server_command(config: ServeConfig, gguf: Path) -> list[str]:
    """The command that starts llama-cpp-python's server on `gguf` (quiet: no llama.cpp debug log)."""
    command = [config.python, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", config.alias,
               "--host", config.host, "--port", str(config.port), "--n_ctx", str(config.n_ctx), "--verbose", "False"]
    if config.threads is not None:
        command += ["--n_threads", str(config.threads), "--n_threads_batch", str(config.threads)]
    return command


def check_llama_cpp(python: str) -> None:
    """Fail, naming the pip command, unless `python` can import llama-cpp-python's server (and its extras)."""
    try:
        proc = subprocess.run([python, "-c", "import llama_cpp.server.app"], capture_output=True, text=True)
    except OSError as exc:
        raise ServerUnavailable(f"cannot run {python} ({exc.strerror}): pass --python (or ${PYTHON_ENV}) with an "
                                f"interpreter that has llama-cpp-python") from None
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["import failed"])[-1]
        raise ServerUnavailable(
            f"llama-cpp-python's server is not importable by {python} ({reason}): install it with "
            f"`{python} -m {INSTALL}` (compiles llama.cpp, several minutes), or pass --python (or ${PYTHON_ENV}) "
            "with an interpreter that has it")


def check_port_free(config: ServeConfig) -> None:
    """Refuse a port where something already answers: waiting for readiness would mistake it for our server."""
    with socket.socket() as sock:
        sock.settimeout(1.0)
        if sock.connect_ex((config.client_host, config.port)) == 0:
            raise ServerUnavailable(f"something already listens on {config.client_host}:{config.port} (another "
                                    "`bao serve`?): stop it or pass another --port")


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Return once `url/models` answers; fail if the server exits first or stays silent for `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerUnavailable(f"the llama.cpp server exited with status {proc.returncode} before answering "
                                    f"at {url} (see the server's output)")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise ServerUnavailable(f"the llama.cpp server did not answer at {url} within {timeout:.0f}s")


class LlamaServer:
    """`with LlamaServer(config) as server:` a running server at `server.url`, stopped on exit.

    Its output goes to `log` (a file, for tests and benchmarks) or to this terminal.
    """

    def __init__(self, config: ServeConfig, log: IO[str] | None = None, ready_timeout: float = 120.0) -> None:
        self.config, self.log, self.ready_timeout = config, log, ready_timeout
        self.url = config.base_url
        self.gguf: Path | None = None
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> LlamaServer:
        check_llama_cpp(self.config.python)
        check_port_free(self.config)
        self.gguf = model_file(self.config.model)
        self.proc = subprocess.Popen(server_command(self.config, self.gguf), stdout=self.log, stderr=self.log)
        try:
            wait_ready(self.url, self.proc, self.ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def usage_lines(config: ServeConfig) -> list[str]:
    """How to point bao at the server, as the agent policy and as the simulated user."""
    url, name = config.base_url, config.alias
    return [
        f"llama.cpp server for {name} at {url} (Ctrl-C stops it)",
        f"  as the agent:  bao eval function --policy openai --model {name} --base-url {url}",
        f"  as the user:   bao eval turtle --user llm --user-model {name} --user-base-url {url}",
        "  it answers one request at a time: export BAO_LLM_CONCURRENCY=1 BAO_LLM_TIMEOUT=600",
    ]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    default = ServeConfig()
    serve = subparsers.add_parser("serve", help="serve the embedded model with llama.cpp (OpenAI-compatible, "
                                  "offline) for --policy openai and --user llm")
    serve.add_argument("--model", default=default.model,
                       help=f"embedded model ({', '.join(EMBEDDED)}) or a .gguf file (default %(default)s)")
    serve.add_argument("--host", default=default.host, help="listen address (default %(default)s)")
    serve.add_argument("--port", type=int, default=default.port, help="listen port (default %(default)s)")
    serve.add_argument("--n-ctx", type=int, default=default.n_ctx, help="context in tokens (default %(default)s)")
    serve.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: the server's)")
    serve.add_argument("--python", default=None,
                       help=f"interpreter that has llama-cpp-python (default ${PYTHON_ENV}, else this one)")
    serve.add_argument("--print-command", action="store_true", help="print the server command and exit")


def run(args: argparse.Namespace) -> int:
    import shlex

    from bao.cli.console import console

    config = ServeConfig(model=args.model, host=args.host, port=args.port, n_ctx=args.n_ctx, threads=args.threads)
    config.python = args.python or config.python
    if args.print_command:
        console.print(shlex.join(server_command(config, model_file(config.model))), markup=False, highlight=False,
                      soft_wrap=True)
        return 0
    # `kill` (SIGTERM) must stop the server too, as Ctrl-C does: leave through the `with`, which stops it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with LlamaServer(config) as server:
        for line in usage_lines(config):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return server.proc.wait()
