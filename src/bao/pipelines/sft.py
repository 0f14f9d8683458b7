"""Supervised fine-tuning on chat examples (BAO stage 1, behavior enhancement), on transformers' `Trainer`.

`Trainer` already gives what a warm start needs: gradient accumulation, LR schedules with warmup,
checkpoints with optimizer/scheduler/RNG state and exact resume, tqdm progress bars, tensorboard logging,
and works with peft's LoRA models. bao adds four things around it:
- **tokenisation that matches inference**: an example is rendered with `bao.agent.prompt.chat_messages` (the
  tool schema in the system prompt, observations as tool responses) and tokenised piece by piece the way a
  rollout builds its token sequence: each assistant message (its text and the closing `<|im_end|>`) on its own,
  everything between assistant messages as one prompt piece. Labels are -100 outside assistant pieces (the
  loss falls only on what the policy writes) and on an example's `untrained_turns` (a teacher's deliberate
  detours, which the data needs as context for the recovery that follows, not as behavior to imitate);
- **checkpoints that are complete or ignored**: `Trainer` writes a checkpoint folder in place, so a kill while
  saving leaves a partial one. `CompleteMarker` writes `bao-complete` into a checkpoint once `Trainer` has
  finished it (its `on_save` runs after the save), and resuming takes the newest marked checkpoint and deletes
  unmarked ones: a checkpoint becomes visible atomically, with the marker;
- **periodic evaluation through the rollout engine** on the environment's test split (`RolloutEval`);
- **a JSONL log** (`log.jsonl`: training metrics, evaluations, resumes) beside tensorboard's (`<out>/runs/`; tensorboard
  ships with the `llm` extra, and a bare install without it still trains).
The final model is written to `<out>/final` via a temporary folder and a rename; a LoRA run is merged first, so
`--model <out>/final` loads anywhere a plain model does.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bao.agent.prompt import IM_END, IM_START, chat_messages
from bao.envs.data import DataError
from bao.pipelines.outputs import check_writable
from bao.pipelines.teacher_data import EXAMPLE_SHAPE, read_examples

IGNORE = -100
MARKER = "bao-complete"
CHECKPOINT_PREFIX = "checkpoint-"


@dataclass
class SFTConfig:
    """Settings of `bao sft`. Defaults suit a short CPU run of SmolLM2-135M."""

    data: Path = field(metadata={"help": "chat examples (JSONL or parquet) from `bao data teacher`"})
    out: Path = field(metadata={"help": "run directory: checkpoints, log.jsonl, final/ (an existing run resumes)"})
    model: str = field(default="smollm2-135m", metadata={"help": "embedded name, HF directory, GGUF file or Hub id"})
    lora: bool = field(default=False, metadata={"help": "train LoRA adapters (peft) instead of every weight"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (scale = alpha / r)"})
    lora_dropout: float = field(default=0.05, metadata={"help": "dropout on the LoRA path"})
    lr: float = field(default=5e-5, metadata={"help": "peak learning rate (LoRA usually wants ~1e-4 to 1e-3)"})
    schedule: str = field(default="cosine", metadata={"help": "LR schedule after warmup: cosine, linear, constant"})
    warmup: float = field(default=0.1, metadata={"help": "warmup: a share of the steps if < 1, else a step count"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    epochs: float = field(default=1.0, metadata={"help": "passes over the data (ignored when --max-steps > 0)"})
    max_steps: int = field(default=-1, metadata={"help": "optimizer steps to run; -1 = from --epochs"})
    batch_size: int = field(default=1, metadata={"help": "examples per forward pass"})
    grad_accum: int = field(default=4, metadata={"help": "forward passes per optimizer step"})
    max_length: int = field(default=4096, metadata={"help": "tokens per example; longer ones are cut at the end"})
    limit: int | None = field(default=None, metadata={"help": "use only the first N examples"})
    save_steps: int = field(default=10, metadata={"help": "checkpoint every N optimizer steps"})
    keep_checkpoints: int = field(default=2, metadata={"help": "checkpoints kept on disk (>= 2, so a kill while "
                                                                "saving always leaves a complete one)"})
    eval_steps: int = field(default=0, metadata={"help": "evaluate with rollouts every N steps (0 = only at the end)"})
    eval_n: int = field(default=0, metadata={"help": "test tasks per evaluation (0 = no rollout evaluation)"})
    eval_env: str | None = field(default=None, metadata={"help": "environment to evaluate on (default: the data's)"})
    eval_split: str = field(default="test", metadata={"help": "split to evaluate on"})
    eval_max_new_tokens: int = field(default=384, metadata={"help": "token limit of one generated turn in evaluation"})
    eval_temperature: float = field(default=0.7, metadata={"help": "sampling temperature in evaluation (0 = greedy)"})
    seed: int = field(default=0, metadata={"help": "seed of data order, LoRA init and sampling"})


def tokenize_example(example: dict[str, Any], tokenizer: Any, max_length: int) -> dict[str, list[int]]:
    """`input_ids` and `labels` of one example; labels are -100 except on the assistant's own tokens, and
    stay -100 on the assistant turns listed in `untrained_turns` (a teacher's deliberate detours, context
    only)."""
    messages = chat_messages(example["messages"], example.get("tools"))
    untrained = set(example.get("untrained_turns") or ())
    turn = 0
    ids: list[int] = []
    labels: list[int] = []
    prompt = ""

    def add(text: str, trained: bool) -> None:
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids.extend(piece)
        labels.extend(piece if trained else [IGNORE] * len(piece))

    for message in messages:
        if message["role"] == "assistant":
            add(prompt + f"{IM_START}assistant\n", False)
            add(message["content"] + IM_END, turn not in untrained)
            turn += 1
            prompt = "\n"
        else:
            prompt += f"{IM_START}{message['role']}\n{message['content']}{IM_END}\n"
    return {"input_ids": ids[:max_length], "labels": labels[:max_length]}


class ExampleDataset:
    """Tokenised examples in memory (a map-style dataset, as `Trainer` expects)."""

    def __init__(self, rows: list[dict[str, list[int]]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        return self.rows[i]


def collate(rows: list[dict[str, list[int]]], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch; padding is masked out of attention and loss."""
    import torch

    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[i, :n] = torch.tensor(r["input_ids"])
        labels[i, :n] = torch.tensor(r["labels"])
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def complete_checkpoints(out: Path) -> list[Path]:
    """Marked checkpoints of a run, oldest first."""
    found = [p for p in out.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir() and (p / MARKER).exists()]
    return sorted(found, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX):]))


def prepare_resume(out: Path) -> Path | None:
    """Delete partial (unmarked) checkpoints and return the newest complete one, if any."""
    for path in out.glob(f"{CHECKPOINT_PREFIX}*"):
        if path.is_dir() and not (path / MARKER).exists():
            shutil.rmtree(path)
    done = complete_checkpoints(out)
    return done[-1] if done else None


class JsonlLog:
    """Append-only JSONL log of a run; each record gets the wall-clock time."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, event: str, **fields: Any) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"event": event, "time": round(time.time(), 3), **fields}) + "\n")


def _callbacks(log: JsonlLog, evaluate_model: Any, config: SFTConfig) -> list[Any]:
    """The bao callbacks (built here so that importing this module does not import transformers)."""
    from transformers import TrainerCallback

    class CompleteMarker(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            path = Path(args.output_dir) / f"{CHECKPOINT_PREFIX}{state.global_step}"
            (path / MARKER).write_text(json.dumps({"step": state.global_step}))
            log.write("checkpoint", step=state.global_step, path=str(path))

    class LogToJsonl(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            log.write("train", step=state.global_step, **{"epoch": state.epoch, **(logs or {})})

    class RolloutEval(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if config.eval_steps and state.global_step % config.eval_steps == 0 and state.global_step < state.max_steps:
                log.write("eval", step=state.global_step, **evaluate_model(model))

    callbacks = [CompleteMarker(), LogToJsonl()]
    if evaluate_model is not None:
        callbacks.append(RolloutEval())
    return callbacks


def load_model(config: SFTConfig) -> tuple[Any, Any]:
    """The model (with LoRA adapters when asked) and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from bao.policies.models import resolve

    path = resolve(config.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype="float32")
    if config.lora:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules="all-linear", task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
    return model, tokenizer


def rollout_evaluator(config: SFTConfig, tokenizer: Any, env: str) -> Any:
    """A function model -> headline metrics that plays `eval_n` tasks of `env` with the model as policy."""
    from bao.pipelines.evaluate import EvalConfig, evaluate
    from bao.policies.decoding import SamplingConfig
    from bao.policies.hf import HFPolicy

    sampling = SamplingConfig(temperature=config.eval_temperature, max_new_tokens=config.eval_max_new_tokens)

    def run(model: Any) -> dict[str, float]:
        was_training = model.training
        policy = HFPolicy(model, tokenizer, sampling, name="sft")
        result = evaluate(EvalConfig(env=env, split=config.eval_split, n=config.eval_n, seeds=(config.seed,)), policy)
        if was_training:
            model.train()
        return {k: round(v.mean, 4) for k, v in result.metrics.items()} | {"eval_seconds": round(result.seconds, 1)}

    return run


def train(config: SFTConfig) -> dict[str, Any]:
    """Fine-tune `config.model` on `config.data`; resumes from the newest complete checkpoint in `config.out`.
    The run directory, the data and the model are checked before anything is written into `config.out`, so a
    run that fails on its inputs leaves no trace there."""
    if config.keep_checkpoints < 2:
        raise ValueError("--keep-checkpoints must be at least 2 (a kill while saving must leave a complete one)")
    out = Path(config.out)
    check_run_dir(out)
    examples = load_examples(config)
    env = config.eval_env or examples[0].get("env")
    if config.eval_n and not env:
        raise ValueError("--eval-n needs --eval-env: the examples do not name their environment")
    from transformers import Trainer, TrainingArguments, set_seed

    set_seed(config.seed)
    model, tokenizer = load_model(config)
    rows = [tokenize_example(e, tokenizer, config.max_length) for e in examples]
    cut = len(rows)
    rows = [r for r in rows if any(label != IGNORE for label in r["labels"])]
    cut -= len(rows)
    if not rows:
        raise ValueError(f"--max-length {config.max_length} cuts every example before its first assistant turn")
    trained_tokens = sum(sum(label != IGNORE for label in r["labels"]) for r in rows)
    evaluate_model = rollout_evaluator(config, tokenizer, env) if config.eval_n else None
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.lr,
        lr_scheduler_type=config.schedule,
        warmup_steps=config.warmup,
        weight_decay=config.weight_decay,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        logging_steps=1,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.keep_checkpoints,
        report_to=["tensorboard"] if importlib.util.find_spec("tensorboard") else "none",
        seed=config.seed,
        use_cpu=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "sft_config.json").write_text(json.dumps(asdict(config), default=str, indent=2))
    log = JsonlLog(out / "log.jsonl")
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ExampleDataset(rows),
        data_collator=lambda batch: collate(batch, pad_id),
        callbacks=_callbacks(log, evaluate_model, config),
    )
    resume = prepare_resume(out)
    log.write("start", examples=len(rows), dropped_no_assistant_tokens=cut,
              tokens=sum(len(r["input_ids"]) for r in rows), trained_tokens=int(trained_tokens),
              resume_from=str(resume) if resume else None)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.perf_counter() - start
    final = save_final(trainer.model, tokenizer, out)
    summary = {"steps": trainer.state.global_step, "train_loss": result.training_loss, "seconds": round(seconds, 1),
               "resumed_from": str(resume) if resume else None, "final": str(final)}
    if evaluate_model is not None:
        summary["eval"] = evaluate_model(trainer.model)
    log.write("end", **summary)
    return summary


def check_run_dir(out: Path) -> None:
    """Fail now, not after the model has loaded, when the run directory is a file or cannot be written."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file: sft writes a run directory (checkpoints, log.jsonl, final/)")
    check_writable(out, f"--out {out}")


def load_examples(config: SFTConfig) -> list[dict[str, Any]]:
    """The first `config.limit` examples of `config.data`; an empty file is an error that says what a line holds."""
    examples = list(read_examples(config.data))[: config.limit]
    if not examples:
        raise DataError(f"{config.data} holds no examples: expected one object with {EXAMPLE_SHAPE} a line")
    return examples


def save_final(model: Any, tokenizer: Any, out: Path) -> Path:
    """Write the (merged) model and tokenizer to `<out>/final` through a temporary folder and a rename."""
    final, tmp = out / "final", out / "final.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    if hasattr(model, "merge_and_unload"):
        import copy

        model = copy.deepcopy(model).merge_and_unload()
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final
