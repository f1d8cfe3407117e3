"""Scale-out on torch.distributed, as ``torchrun`` sets it up: which process this is, on which
device it trains, and the few collective steps a data-parallel recipe needs beyond
DistributedDataParallel's own gradient averaging.

Nothing here is a distribution layer of its own: ``torchrun --nproc_per_node=N`` starts the
processes and sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; :func:`start` joins the process
group (NCCL between GPUs, gloo between CPU processes); DDP averages the gradients.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

DEVICES = ("cpu", "cuda", "mps")


def resolve_device(name: str | None, local_rank: int = 0) -> torch.device:
    """The device to train on: ``name`` ("cpu", "cuda", "cuda:1", "mps") or, when None, the best
    one present (CUDA, then MPS, then CPU). Under torchrun, "cuda" means this process's own GPU,
    ``cuda:LOCAL_RANK``. An absent device is a ValueError that says what is present."""
    if name is None:
        name = "cuda" if torch.cuda.is_available() else (
            "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu")
    if not isinstance(name, str):
        raise TypeError(f"device={name!r} is not valid; expected one of {list(DEVICES)} (or 'cuda:N')")
    kind, _, index = name.partition(":")
    if kind not in DEVICES or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(f"device={name!r} is not known; expected one of {list(DEVICES)} (or 'cuda:N')")
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device={name!r} was asked for, but this torch ({torch.__version__}) sees no CUDA "
                             "device here; use --device cpu, or leave --device out to take the best one present")
        number = int(index) if index else local_rank
        if number >= count:
            raise ValueError(f"device={name!r}: GPU {number} was asked for, but only {count} are present"
                             + (f" (this is process {local_rank} on this machine)" if not index else ""))
        return torch.device("cuda", number)
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device={name!r} was asked for, but no Apple GPU (MPS) is present here; use --device cpu")
    return torch.device(kind)


def describe(device: torch.device) -> str:
    """The device in words, e.g. 'cuda (NVIDIA H100 80GB HBM3)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'s' if threads > 1 else ''})"


@dataclass(frozen=True)
class Cluster:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    owns_group: bool = False  # this process group was started here (and is closed by stop)

    @property
    def is_main(self) -> bool:
        """Rank 0 logs, draws the progress bar and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def _comm(self, tensor: torch.Tensor) -> torch.Tensor:
        # NCCL moves CUDA tensors only, gloo (here) CPU tensors only.
        return tensor.to(self.device if dist.get_backend() == "nccl" else "cpu")

    def all_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The element-wise sum over processes (the tensor itself with one process)."""
        if not self.distributed:
            return tensor
        moved = self._comm(tensor)
        dist.all_reduce(moved, op=dist.ReduceOp.SUM)
        return moved.to(tensor.device)

    def all_min(self, tensor: torch.Tensor) -> torch.Tensor:
        if not self.distributed:
            return tensor
        moved = self._comm(tensor)
        dist.all_reduce(moved, op=dist.ReduceOp.MIN)
        return moved.to(tensor.device)

    def average_buffers(self, module: torch.nn.Module) -> None:
        """Replace every floating buffer (batch-norm running statistics) by its mean over the
        processes. DDP keeps the parameters equal; the statistics each process gathered on its own
        shard are pooled here, so that every process ends with the same weights."""
        if not self.distributed:
            return
        for buffer in module.buffers():
            if buffer.is_floating_point():
                buffer.copy_(self.all_sum(buffer.detach().clone()) / self.world_size)

    def gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every process's copy of a same-shaped tensor, in rank order, on the CPU."""
        if not self.distributed:
            return [tensor.cpu()]
        moved = self._comm(tensor.contiguous())
        parts = [torch.empty_like(moved) for _ in range(self.world_size)]
        dist.all_gather(parts, moved)
        return [p.cpu() for p in parts]


def start(device: str | None = None) -> Cluster:
    """Join the process group that torchrun describes (``WORLD_SIZE`` > 1), or stand alone.
    The backend is NCCL when training on CUDA and gloo otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    where = resolve_device(device, local_rank)
    if where.type == "cuda":
        torch.cuda.set_device(where)
    if world_size > 1:
        if where.type == "mps":
            raise ValueError("device='mps' cannot train with several processes; use --device cpu under torchrun")
        owns = not dist.is_initialized()
        if owns:
            dist.init_process_group(backend="nccl" if where.type == "cuda" else "gloo",
                                    **({"device_id": where} if where.type == "cuda" else {}))
        return Cluster(dist.get_rank(), dist.get_world_size(), local_rank, where, owns)
    return Cluster(rank, world_size, local_rank, where)


def stop(cluster: Cluster, *, together: bool = True) -> None:
    """Leave the process group. ``together``: all processes at once, so that none closes its
    connections while another still has work of its own to finish (gloo can abort a process whose
    peer has gone); after a failure (``together=False``) the others may never arrive: no wait."""
    if cluster.owns_group and dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()


def weights_checksum(module: torch.nn.Module) -> str:
    """A short hash of every tensor in ``module.state_dict()`` (names, shapes, dtypes and bytes):
    equal exactly when the weights are bit for bit equal."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        data = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(data.shape)}:{data.dtype}".encode())
        digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
