"""When a generated sequence ends and what its text is: llama-cpp-python's `create_completion`
rules, kept here so batched decoding returns exactly what one call at a time returned.

Pure Python (no llama_cpp), so the rules are tested without the model:
  - an end-of-generation token ends it ("stop"); the token is not counted,
  - a stop string ends it ("stop"); the text is cut before the first listed stop string found,
    and the token that completed it is counted,
  - `max_tokens` tokens end it ("length"),
  - while the text ends inside a multi-byte UTF-8 character, neither stops nor the length are checked,
  - an empty prompt starts the completion with the BOS token (counted), and the text then loses
    one leading space.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CompletionText:
    stop: tuple[bytes, ...]
    max_tokens: int
    tokens: list[int] = field(default_factory=list)
    raw: bytes = b""  # every completion token's bytes, including any stop string
    text: bytes = b""  # the answer, set when finished
    finish_reason: str | None = None
    after_bos: bool = False
    _multibyte_fix: int = 0

    @classmethod
    def create(cls, stop: tuple[str, ...] | list[str], max_tokens: int, *, bos: int | None = None) -> "CompletionText":
        """`bos`: the BOS token id when the prompt is empty (create_completion then starts from it)."""
        return cls(
            stop=tuple(s.encode("utf-8") for s in stop if s),
            max_tokens=max_tokens,
            tokens=[] if bos is None else [bos],
            after_bos=bos is not None,
        )

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    def _view(self) -> bytes:
        return self.raw[1:] if self.after_bos and self.raw[:1] == b" " else self.raw

    def end_of_generation(self) -> None:
        self.text, self.finish_reason = self._view(), "stop"

    def add(self, token: int, piece: bytes) -> None:
        """One sampled (non end-of-generation) token and its bytes."""
        self.tokens.append(token)
        self.raw += piece
        text = self._view()
        # an incomplete UTF-8 character at the end: wait for its remaining bytes
        for k, char in enumerate(text[-3:]):
            k = 3 - k
            for num, pattern in ((2, 192), (3, 224), (4, 240)):
                if num > k and pattern & char == pattern:
                    self._multibyte_fix = num - k
        if self._multibyte_fix > 0:
            self._multibyte_fix -= 1
            return
        found = [s for s in self.stop if s in text]
        if found:
            self.text, self.finish_reason = text[: text.index(found[0])], "stop"
        elif len(self.tokens) >= self.max_tokens:
            self.text, self.finish_reason = text, "length"

    def decoded(self) -> str:
        return self.text.decode("utf-8", errors="ignore")
