"""The command's followers are forked (harness.report.forked.ForkedChild): used like Popen, with
their own pipes, an exit code, and no copy of a sibling's pipe that would hide its end of file."""

from __future__ import annotations

import subprocess
import time
from typing import IO

import pytest

from harness.report.child import last_answer, stop_child
from harness.report.forked import ForkedChild, can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="the followers are forked only where fork is safe")


def echo_twice(stdin: IO[str], stdout: IO[str]) -> int:
    first = stdin.readline()
    second = stdin.readline()
    stdout.write('{"got": %d}\n' % len(first + second))
    return 3 if second.startswith("fail") else 0


def test_a_forked_child_answers_like_a_process() -> None:
    child = ForkedChild(echo_twice)
    assert child.poll() is None
    child.stdin.write("hello\n")  # type: ignore[union-attr]
    child.stdin.flush()  # type: ignore[union-attr]
    assert last_answer(child, "world\n", timeout=10) == {"got": 12}
    assert child.returncode == 0
    failing = ForkedChild(echo_twice)
    assert last_answer(failing, "one\nfail\n", timeout=10) is None  # answered, but exited 3
    assert failing.returncode == 3


def test_a_sibling_does_not_hold_the_first_childs_input_open() -> None:
    first = ForkedChild(echo_twice)
    second = ForkedChild(echo_twice)  # forked while the parent holds the first one's pipes
    first.stdin.close()  # type: ignore[union-attr]
    out, _ = first.communicate(None, timeout=10)  # ends: its input reached end of file
    assert out == '{"got": 0}\n' and first.returncode == 0
    stop_child(second)
    assert second.returncode == 0


def test_a_child_that_hangs_is_killed() -> None:
    def hang(stdin: IO[str], stdout: IO[str]) -> int:
        time.sleep(60)
        return 0

    child = ForkedChild(hang)
    with pytest.raises(subprocess.TimeoutExpired):
        child.communicate(None, timeout=0.2)
    child.kill()
    assert child.wait(timeout=10) != 0
