"""The hf backend with a tiny random GPT-2 built in memory (no hub access)."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from fcot.records import Example
from fcot.teachers import generate, make_backend
from fcot.teachers.base import GenerationRequest
from fcot.teachers.hf import HFBackend

TEXT = ["Q: What is 2 plus 3?\nA: Let's think step by step. Therefore, the answer is 5."] * 20


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    raw = Tokenizer(models.BPE(unk_token=None))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(TEXT, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|endoftext|>")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=32, n_layer=2, n_head=2,
                        eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id)
    model = GPT2LMHeadModel(config)
    path = tmp_path_factory.mktemp("tiny-gpt2")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_greedy_batches_with_left_padding_match_one_at_a_time(tiny):
    backend = HFBackend(str(tiny), batch_size=4, device="cpu")
    prompts = ["Q: What is 2 plus 3?\nA:", "Q: 2?\nA: Let's think step by step."]
    requests = [GenerationRequest(p, max_tokens=6) for p in prompts]
    batched = backend.complete(requests)
    alone = [backend.complete([r])[0] for r in requests]
    assert [r.text for r in batched] == [r.text for r in alone]
    assert backend.tokenizer.padding_side == "left"
    for result in batched:
        assert result.finish_reason in ("stop", "length") and result.prompt_tokens > 0
        assert result.completion_tokens <= 7


def test_sampling_is_repeatable_per_seed_and_rows_differ(tiny):
    backend = HFBackend(str(tiny), batch_size=8, device="cpu")
    requests = [GenerationRequest("Q: What is 2 plus 3?\nA:", max_tokens=12, temperature=1.0, seed=s) for s in range(4)]
    first = backend.complete(requests)
    again = backend.complete(requests)
    assert [r.text for r in first] == [r.text for r in again]
    assert len({r.text for r in first}) > 1


def test_stop_strings_cut_the_text_and_mark_it_stopped(tiny):
    backend = HFBackend(str(tiny), device="cpu")
    [free] = backend.complete([GenerationRequest("Q: What is 2 plus 3?\nA:", max_tokens=10)])
    if len(free.text) < 2:
        pytest.skip("the random model wrote too little to cut")
    stop = free.text[1:3]
    [cut] = backend.complete([GenerationRequest("Q: What is 2 plus 3?\nA:", max_tokens=10, stop=(stop,))])
    assert cut.text == free.text[: free.text.find(stop)] and cut.finish_reason == "stop"


def test_the_driver_runs_both_stages_through_a_local_model(tiny):
    examples = [Example("toy", f"q{i}", f"What is {i} plus 3?", str(i + 3), "number") for i in range(3)]
    completions = generate(examples, make_backend("hf", model=str(tiny), batch_size=2, device="cpu"),
                           max_tokens=8, answer_max_tokens=4, degree=2)
    assert len(completions) == 6
    assert all(c.source == f"hf:{tiny}" and c.prompt_tokens and c.finish_reason for c in completions)


def test_a_bad_dtype_is_refused_naming_the_accepted_ones(tiny):
    with pytest.raises(ValueError, match=r"dtype must be one of \('float32', 'float16', 'bfloat16'\)"):
        HFBackend(str(tiny), dtype="fp8")
