"""When a generated sequence ends and what its text is (create_completion's rules, without the model)."""

from __future__ import annotations

from harness.local.completion_text import CompletionText

STOPS = ("\n\n", "\nQuestion:")


def feed(text: CompletionText, pieces: list[bytes]) -> CompletionText:
    for token, piece in enumerate(pieces, start=100):
        assert not text.finished, "fed a token after the sequence had finished"
        text.add(token, piece)
    return text


def test_stop_string_cuts_the_text_and_its_token_is_counted() -> None:
    text = feed(CompletionText.create(STOPS, 48), [b" Paris", b".", b"\n", b"\nQuestion"])
    assert text.finish_reason == "stop"
    assert text.decoded() == " Paris."
    assert len(text.tokens) == 4  # the token that completed "\n\n" counts, as in create_completion


def test_the_first_listed_stop_wins_even_when_another_occurs_earlier() -> None:
    # both stops arrive with one token; "\n\n" is listed first, so the cut is at "\n\n"
    text = feed(CompletionText.create(STOPS, 48), [b"A", b"\nQuestion: B\n\n"])
    assert text.decoded() == "A\nQuestion: B"


def test_stop_split_across_tokens_is_found() -> None:
    text = feed(CompletionText.create(STOPS, 48), [b"1889", b"\nQuest", b"ion:"])
    assert (text.decoded(), text.finish_reason) == ("1889", "stop")


def test_end_of_generation_is_a_stop_and_is_not_counted() -> None:
    text = feed(CompletionText.create(STOPS, 48), [b" yes"])
    text.end_of_generation()
    assert (text.decoded(), text.finish_reason, len(text.tokens)) == (" yes", "stop", 1)


def test_max_tokens_ends_with_length() -> None:
    text = feed(CompletionText.create((), 3), [b"a", b"b", b"c"])
    assert (text.decoded(), text.finish_reason, len(text.tokens)) == ("abc", "length", 3)


def test_an_unfinished_utf8_character_postpones_the_length_check() -> None:
    # "é" is 0xC3 0xA9; its first byte arrives as the last allowed token
    text = feed(CompletionText.create((), 2), [b"ab", b"\xc3"])
    assert not text.finished
    feed(text, [b"\xa9"])
    assert (text.decoded(), text.finish_reason, len(text.tokens)) == ("abé", "length", 3)


def test_empty_prompt_counts_bos_and_drops_one_leading_space() -> None:
    text = feed(CompletionText.create((), 3, bos=2), [b" Hello", b" there"])
    assert text.tokens[0] == 2
    assert (text.decoded(), text.finish_reason) == ("Hello there", "length")


def test_empty_stop_strings_are_ignored() -> None:
    text = feed(CompletionText.create(("",), 2), [b"a", b"b"])
    assert (text.decoded(), text.finish_reason) == ("ab", "length")
