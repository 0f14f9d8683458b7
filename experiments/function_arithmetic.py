"""Can a model compute FunctionGym's answer once it knows the rule?

A FunctionGym episode ends with arithmetic: the agent must evaluate the rule it found on the test case
(`(b + c) ** 2 / a * d` at a=9, b=7, c=5, d=10). This asks the model exactly that, with the rule and the values
given and two worked examples, greedy, and counts the answers within UserRL's tolerance. It bounds what
any elimination strategy the model learns can score on the env.

    python experiments/function_arithmetic.py [--model smollm2-135m] [--split test]
"""

from __future__ import annotations

import argparse
import re

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from bao.envs import registry
from bao.envs.function import TOLERANCE
from bao.policies.models import resolve

SHOTS = [
    ("a + b * c - d", [1, 2, 3, 4], "1 + 2 * 3 - 4 = 1 + 6 - 4 = 3"),
    ("(a - b) * d", [7, 3, 2, 5], "(7 - 3) * 5 = 4 * 5 = 20"),
]
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def question(rule: str, case: list) -> str:
    values = ", ".join(f"{name}={value}" for name, value in zip("abcd", case, strict=True))
    return f"Compute {rule} for {values}. Write the steps and end with the number."


def last_number(text: str) -> float | None:
    numbers = _NUMBER.findall(text.strip().split("\n")[0])
    return float(numbers[-1]) if numbers else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m", help="embedded model name or local path")
    parser.add_argument("--split", default="test")
    parser.add_argument("--batch-size", type=int, default=13)
    args = parser.parse_args()

    path = resolve(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    tasks = registry.make("function").tasks(args.split)
    shots = [m for rule, case, worked in SHOTS for m in ({"role": "user", "content": question(rule, case)},
                                                          {"role": "assistant", "content": worked})]
    prompts = [tokenizer.apply_chat_template(
        [*shots, {"role": "user", "content": question(t.hidden["rule"], t.hidden["test_case"])}],
        tokenize=False, add_generation_prompt=True) for t in tasks]
    right = 0
    for start in range(0, len(tasks), args.batch_size):
        batch = tokenizer(prompts[start:start + args.batch_size], return_tensors="pt", padding=True)
        with torch.no_grad():
            out = model.generate(**batch, max_new_tokens=40, do_sample=False)
        for task, tokens in zip(tasks[start:start + args.batch_size], out, strict=True):
            text = tokenizer.decode(tokens[batch["input_ids"].shape[1]:], skip_special_tokens=True)
            value = last_number(text)
            ok = value is not None and abs(value - float(task.hidden["expected_result"])) <= TOLERANCE
            right += ok
            print(f"{'ok ' if ok else 'no '} {task.hidden['rule']} at {task.hidden['test_case']} "
                  f"= {task.hidden['expected_result']}: {text.splitlines()[0] if text.strip() else ''!r}")
    print(f"{args.model}: {right}/{len(tasks)} test cases computed right given the rule")


if __name__ == "__main__":
    main()
