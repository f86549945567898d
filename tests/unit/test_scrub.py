"""scrub_text skips the substitutions only where none of them could mask anything."""

from __future__ import annotations

import random

from cockpit.audit import _TOKEN, scrub, scrub_text
from cockpit.config import redact

SECRETS = ("wh-Secret-77", "pg-Secret-99")
SAMPLES = [
    "2026-12-07T03:12:01Z ERROR [rails] PG::ConnectionBad: could not connect to 10.0.3.3",
    "connecting to postgresql://excel_user:pg-Secret-99@db:5432/excel failed",
    "REDIS://:hunter2@redis:6379/0 refused",
    "password=hunter2 host=db",
    "PassWord = 'it''s' rest",
    "paſſword=hunter2",  # a long s: IGNORECASE matches it as an s, in both patterns
    "Authorization: Bearer abcdefghijklmnop",
    "TOKEN: abcdefgh12345678",
    "posted to https://hooks.slack.com/services/T0/B0/wh-Secret-77",
    "the webhook wh-Secret-77 is set",
    "a token too short: abc",
    "",
]


def full(text: str) -> str:
    """Every substitution, always (what scrub did before it looked first)."""
    return _TOKEN.sub(r"\1****", redact(text, SECRETS))


def test_same_result_as_every_substitution() -> None:
    rng = random.Random(7)
    words = [*" ".join(SAMPLES).split(), "://", "bEaReR", "toKen=", "x" * 40, "é€"]
    texts = SAMPLES + [" ".join(rng.choices(words, k=rng.randint(1, 12))) for _ in range(2000)]
    for text in texts:
        assert scrub_text(text, SECRETS) == full(text), text
    assert "hunter2" not in scrub_text("paſſword=hunter2", SECRETS)


def test_a_line_with_nothing_to_mask_is_returned_as_it_is() -> None:
    line = SAMPLES[0]
    assert scrub_text(line, SECRETS) is line
    assert scrub({"lines": [line, SAMPLES[1]]}, SECRETS) == {"lines": [line, full(SAMPLES[1])]}
