from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bao.agent.prompt import CHATML_TEMPLATE, chat_messages, render_chatml  # noqa: E402
from bao.agent.render import render_tool_call  # noqa: E402
from bao.core.types import Task  # noqa: E402
from bao.policies.base import Context  # noqa: E402
from bao.policies.decoding import DecodeBatch, sequence_logprobs  # noqa: E402
from bao.policies.hf import HFPolicy, HFPolicyConfig, load_hf_policy  # noqa: E402
from bao.policies.models import ModelError  # noqa: E402
from bao.policies.sampling import SamplingConfig  # noqa: E402
from bao.policies.tiny import TinyConfig, build_tokenizer, save_tiny_model  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPT = [
    {"role": "system", "content": "You discover a hidden rule. Call interact_with_env."},
    {"role": "user", "content": "My mapping function is settled and ready."},
]
TURNS = [
    (render_tool_call("action", "1 2 3 4", "Vary one input at a time."),
     "For numbers [1.0, 2.0, 3.0, 4.0], the result is 10.0."),
    ("I think {not json", "Invalid action format. Please use [action], [search], [answer], or [finish]."),
    (render_tool_call("search", "test"), "Test case: [5, 7, 2, 9]"),
]


def conversation(turns):
    messages = [dict(m) for m in PROMPT]
    for output, observation in turns:
        messages += [{"role": "assistant", "content": output}, {"role": "tool", "content": observation}]
    return messages


def test_incremental_ids_equal_the_full_render_of_the_conversation(tiny):
    """Prompt ids, then per turn: the turn's canonical ids, end-of-turn, observation ids == one full render."""
    policy = HFPolicy(*tiny)
    ids = policy.prompt_ids(PROMPT)
    for output, observation in TURNS:
        ids += policy.encode(output) + [policy.end_of_turn_id] + policy.observation_ids(observation)
    assert ids == policy.prompt_ids(conversation(TURNS))


def test_incremental_ids_equal_the_full_render_with_smollm2s_own_template(tiny):
    """The embedded model's template and tokenizer (tested only where it is already pulled: no download)."""
    from transformers import AutoTokenizer

    from bao.policies.models import resolve

    try:
        path = resolve("smollm2-135m", fetch=False)
    except ModelError:
        pytest.skip("smollm2-135m is not pulled (bao models pull smollm2-135m)")
    policy = HFPolicy(tiny[0], AutoTokenizer.from_pretrained(path))  # only the tokenizer matters here
    ids = policy.prompt_ids(PROMPT)
    for output, observation in TURNS:
        ids += policy.encode(output) + [policy.end_of_turn_id] + policy.observation_ids(observation)
    assert ids == policy.prompt_ids(conversation(TURNS))


def test_observation_ids_are_the_tool_response_turn_and_the_next_assistant_header(tiny):
    policy = HFPolicy(*tiny)
    text = policy.tokenizer.decode(policy.observation_ids("the result is 10.0"))
    assert text == ("\n<|im_start|>user\n<tool_response>\nthe result is 10.0\n</tool_response><|im_end|>\n"
                    "<|im_start|>assistant\n")
    assert policy.tokenizer.decode([policy.end_of_turn_id]) == "<|im_end|>"
    assert policy.end_of_turn_id in policy.stop_ids


def test_a_tokenizer_without_chat_template_is_rendered_as_bao_chatml(tiny):
    model, _ = tiny
    plain = build_tokenizer().__class__(tokenizer_object=build_tokenizer().backend_tokenizer, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>")
    assert plain.chat_template is None
    policy = HFPolicy(model, plain)
    assert policy.render(conversation(TURNS), True) == render_chatml(chat_messages(conversation(TURNS)), True)
    assert policy.render(conversation(TURNS), True) == HFPolicy(*tiny).render(conversation(TURNS), True)


def test_a_template_that_rewrites_earlier_turns_is_refused(tiny):
    model, tokenizer = tiny
    dropping = CHATML_TEMPLATE.replace(
        "message['content']", "(message['content'] if loop.last or message['role'] != 'assistant' else '')")
    rewriting = tokenizer.__class__(tokenizer_object=tokenizer.backend_tokenizer, eos_token="<|im_end|>",
                                    pad_token="<|endoftext|>", chat_template=dropping)
    with pytest.raises(ModelError, match="append-only"):
        HFPolicy(model, rewriting)


def test_a_template_that_strips_reasoning_from_past_turns_is_refused(tiny):
    model, tokenizer = tiny
    strip = CHATML_TEMPLATE.replace(
        "message['content']",
        "(message['content'].split('</think>')[-1].lstrip() if not loop.last else message['content'])")
    stripping = tokenizer.__class__(tokenizer_object=tokenizer.backend_tokenizer, eos_token="<|im_end|>",
                                    pad_token="<|endoftext|>", chat_template=strip)
    with pytest.raises(ModelError, match="append-only"):
        HFPolicy(model, stripping)


def test_text_drops_the_stop_token_but_keeps_what_the_model_wrote(tiny):
    policy = HFPolicy(*tiny)
    ids = policy.encode("[answer] 42") + [policy.end_of_turn_id]
    assert policy.text(ids) == "[answer] 42"
    assert policy.text(ids[:-1]) == "[answer] 42"


def test_act_samples_one_turn_reproducibly_from_the_episode_seed(tiny):
    policy = HFPolicy(*tiny, SamplingConfig(max_new_tokens=6))
    task = Task(id="t1", env="function", split="test", prompt=PROMPT)
    ctx = Context(task=task, messages=conversation(TURNS[:1]), seed=3, turn=1)
    first = policy.act(ctx)
    assert isinstance(first, str) and first == policy.act(ctx)
    assert len(policy.encode(first)) <= 6 + 2  # decode/encode may merge or split a little, never grow much


def test_load_hf_policy_reads_a_local_directory_and_applies_a_lora_adapter(tmp_path):
    from peft import LoraConfig, get_peft_model

    model_dir = save_tiny_model(tmp_path / "tiny", TinyConfig(seed=1))
    base = load_hf_policy(HFPolicyConfig(model=str(model_dir)))
    assert base.name == "hf:tiny" and next(base.model.parameters()).dtype == torch.float32
    ids = torch.tensor([base.prompt_ids(PROMPT)])
    with torch.no_grad():
        untouched = base.model(input_ids=ids).logits
    lora = get_peft_model(base.model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    with torch.no_grad():
        expected = lora(input_ids=ids).logits
    adapted = load_hf_policy(HFPolicyConfig(model=str(model_dir), adapter=str(tmp_path / "adapter")))
    with torch.no_grad():
        got = adapted.model(input_ids=ids).logits
    assert adapted.name == "hf:tiny+adapter"
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, untouched, atol=1e-3)
    prompt = ids[0].tolist()
    turn = DecodeBatch(adapted.model, adapted.stop_ids).generate({0: prompt}, {0: 6}, {0: 1}, adapted.sampling)[0]
    reference = sequence_logprobs(adapted.model, prompt + turn.ids, adapted.sampling.temperature)[len(prompt):]
    assert max(abs(a - b) for a, b in zip(turn.logprobs, reference)) < 1e-4


def test_load_hf_policy_explains_a_missing_model(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        load_hf_policy(HFPolicyConfig(model=str(tmp_path)))
    with pytest.raises(ModelError, match="not a peft adapter"):
        load_hf_policy(HFPolicyConfig(model=str(save_tiny_model(tmp_path / "m")), adapter=str(tmp_path)))


def test_load_hf_policy_names_a_corrupt_weights_file_in_one_line(tmp_path):
    model_dir = save_tiny_model(tmp_path / "tiny")
    (model_dir / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError) as error:
        load_hf_policy(HFPolicyConfig(model=str(model_dir)))
    assert str(model_dir / "model.safetensors") in str(error.value) and len(str(error.value).splitlines()) == 1


def test_load_hf_policy_says_an_adapter_has_no_weights_before_loading_the_model(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelError, match="has adapter_config.json but no weights .adapter_model.safetensors"):
        load_hf_policy(HFPolicyConfig(model=str(tmp_path / "not-loaded"), adapter=str(adapter)))
