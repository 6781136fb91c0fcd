"""Importing this module registers every built-in metric type."""

from harness.metrics import abstention  # noqa: F401
from harness.metrics import basic  # noqa: F401
from harness.metrics import correctness  # noqa: F401
from harness.metrics import faithfulness  # noqa: F401
from harness.metrics import format  # noqa: F401
from harness.metrics import regex_match  # noqa: F401
from harness.metrics import retrieval  # noqa: F401
