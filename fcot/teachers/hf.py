"""The ``hf`` backend: a local transformers causal LM as the teacher (hub id or local path).

Requests with the same sampling settings are batched (``batch_size``) with **left padding**, so
every row's continuation starts right after its prompt. Greedy decoding at temperature 0,
multinomial sampling otherwise. Stop strings are applied to the decoded text (the text is cut at
the first one and ``finish_reason`` is ``"stop"``); a row that emitted EOS is ``"stop"``, one that
hit ``max_tokens`` is ``"length"``.

Seeding: a batch is sampled after ``torch.manual_seed`` of a value derived from the seeds of its
requests, so a run is repeatable; rows of one batch are sampled independently, so the D samples
of one question differ.

REPRODUCTION NOTE: per-request seeds are not honoured row by row as an API server would: a single
request's text can depend on which batch it landed in.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

from fcot.teachers.base import GenerationRequest, GenerationResult


class HFBackend:
    """``model``: hub id or local path (or pass ``model_obj``/``tokenizer`` already loaded)."""

    name = "hf"

    def __init__(
        self,
        model: str,
        batch_size: int = 8,
        device: str | None = None,
        dtype: str | None = None,
        model_obj=None,
        tokenizer=None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = str(model)
        self._batch_size = batch_size
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if tokenizer is None:
            tokenizer = AutoTokenizer.from_pretrained(self.model)
        if model_obj is None:
            kwargs = {}
            if dtype is not None:
                accepted = ("float32", "float16", "bfloat16")
                if dtype not in accepted:
                    raise ValueError(f"dtype must be one of {accepted} or None, got {dtype!r}")
                kwargs["dtype"] = getattr(torch, dtype)
            model_obj = AutoModelForCausalLM.from_pretrained(self.model, **kwargs)
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.tokenizer = tokenizer
        self.lm = model_obj.to(self.device).eval()

    variant = ""
    concurrency = 1
    groups_samples = False

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def __repr__(self) -> str:
        return f"HFBackend(model={self.model!r}, device={self.device!r})"

    def complete(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        requests = list(requests)
        results: list[GenerationResult | None] = [None] * len(requests)
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault((r.temperature, r.max_tokens, r.stop), []).append(i)
        for (temperature, max_tokens, stop), indices in groups.items():
            for start in range(0, len(indices), self._batch_size):
                chunk = indices[start : start + self._batch_size]
                texts = self._generate([requests[i] for i in chunk], temperature, max_tokens, stop)
                for i, result in zip(chunk, texts):
                    results[i] = result
        return results  # type: ignore[return-value]

    def _generate(self, requests, temperature, max_tokens, stop) -> list[GenerationResult]:
        import torch

        tok = self.tokenizer
        batch = tok([r.prompt for r in requests], return_tensors="pt", padding=True).to(self.device)
        seed_text = ",".join(str(r.seed) for r in requests)
        torch.manual_seed(int(hashlib.sha256(seed_text.encode()).hexdigest()[:8], 16))
        kwargs = dict(max_new_tokens=max_tokens, pad_token_id=tok.pad_token_id)
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=float(temperature), top_k=0, top_p=1.0)
        else:
            kwargs.update(do_sample=False)
        with torch.no_grad():
            out = self.lm.generate(**batch, **kwargs)
        new = out[:, batch["input_ids"].shape[1] :]
        eos = tok.eos_token_id
        results = []
        for row, mask in zip(new.tolist(), batch["attention_mask"].tolist()):
            n_generated = len(row)
            finish = "length"
            if eos is not None and eos in row:
                n_generated = row.index(eos)
                finish = "stop"
            text = tok.decode(row[:n_generated], skip_special_tokens=True)
            for s in stop:
                cut = text.find(s)
                if cut != -1:
                    text = text[:cut]
                    finish = "stop"
            results.append(
                GenerationResult(
                    text=text,
                    finish_reason=finish,
                    prompt_tokens=int(sum(mask)),
                    completion_tokens=n_generated + (1 if finish == "stop" and n_generated < len(row) else 0),
                )
            )
        return results
