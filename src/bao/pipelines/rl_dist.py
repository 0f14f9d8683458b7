"""Data parallelism for `bao train`: N processes (`accelerate launch` on GPUs, `torchrun` on CPUs) share a step.

Each process plays whole groups (group k goes to process k mod N), then every process receives every
trajectory, so that rewards, advantages, the estimator's statistics and the loss's token count are computed on
the whole batch, identically everywhere. Each process runs the forward and backward of its own groups' rows
only; the gradients are summed across processes before clipping, so every process takes the same optimizer
step as one process would on the whole batch (the loss is already normalised by the global token count).
Only the main process writes logs, checkpoints and evaluations; the others wait for it.

Why not DDP's wrapper: a step runs several backward passes (one per micro-batch, then one through the shared
prefix), and DDP would all-reduce after each of them; one explicit sum per optimizer step is all that is
needed, and keeps the single-process path free of any wrapper.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TypeVar

import torch

T = TypeVar("T")

# Evaluations run on the main process while the others wait: on a CPU they take longer than torch's default
# 30-minute collective timeout.
WAIT = timedelta(hours=12)


class Workers:
    """The processes of a run: who am I, how many are we, and the few collective operations a step needs."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.accelerator = None
        self.rank = 0
        if self.world > 1:
            from accelerate import Accelerator
            from accelerate.utils import InitProcessGroupKwargs

            self.accelerator = Accelerator(cpu=not torch.cuda.is_available(),
                                           kwargs_handlers=[InitProcessGroupKwargs(timeout=WAIT)])
            self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def device(self) -> torch.device:
        return self.accelerator.device if self.accelerator is not None else torch.device("cpu")

    def check(self, tasks_per_step: int) -> None:
        if tasks_per_step % self.world:
            raise ValueError(f"--tasks-per-step {tasks_per_step} does not split over {self.world} processes: use a "
                             f"multiple of {self.world}")

    def owns(self, group_index: int) -> bool:
        return group_index % self.world == self.rank

    def gather(self, items: list[T], indices: list[int]) -> list[T]:
        """Every process's `items`, placed at their global `indices`, on every process."""
        if self.world == 1:
            return [item for _, item in sorted(zip(indices, items), key=lambda pair: pair[0])]
        from accelerate.utils import gather_object

        pairs = gather_object(list(zip(indices, items)))
        return [item for _, item in sorted(pairs, key=lambda pair: pair[0])]

    def sum_gradients(self, params: list[torch.nn.Parameter]) -> None:
        """Sum the gradients across processes (a process without rows contributes zeros)."""
        if self.world == 1:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        offset = 0
        for p, g in zip(params, grads):
            p.grad = flat[offset : offset + g.numel()].view_as(g)
            offset += g.numel()

    def sum_stats(self, stats: dict[str, float]) -> dict[str, float]:
        if self.world == 1:
            return stats
        values = torch.tensor(list(stats.values()), dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(values)
        return dict(zip(stats, values.tolist()))

    def wait(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def close(self) -> None:
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
