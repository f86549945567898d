"""resp_lines cuts a streamed response exactly as the client's iter_resp_lines does, in
linear time, with a bound on a line that never ends."""

from __future__ import annotations

import random

from kubernetes.watch.watch import iter_resp_lines

from cockpit.sources.kube.lines import MAX_PENDING, resp_lines


class Chunks:
    """A response whose stream() yields the given chunks (a real urllib3 response does
    the same from the socket; here the chunk edges are chosen to be awkward)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def stream(self, amt: object = None, decode_content: bool = False) -> list[bytes]:
        return list(self.chunks)


def cut(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out, at = [], 0
    while at < len(data):
        step = rng.choice((1, 2, 7, 64, 4096))
        out.append(data[at : at + step])
        at += step
    return out


def test_same_lines_as_the_clients_iterator() -> None:
    data = (
        b"2026-12-06T03:12:01.5Z first line\n\n"
        b"bad utf-8 \xff\xfe here\n"
        b"multi-byte \xc3\xa9\xe2\x82\xac split anywhere\n"
        b"\r\n" + b"x" * 10_000 + b"\n"
        b"unterminated tail"
    )
    for seed in range(20):
        chunks = cut(data, seed)
        assert list(resp_lines(Chunks(chunks))) == list(iter_resp_lines(Chunks(chunks)))
    lines = list(resp_lines(Chunks([data])))
    assert lines[1] == "" and "\ufffd" in lines[2] and lines[3].startswith("multi-byte é€")
    assert lines[-1] == "x" * 10_000  # the unterminated tail is never yielded


def test_a_line_without_end_is_bounded() -> None:
    chunks = [b"y" * 65_536] * 64 + [b"\nnext\n"]  # 4 MiB without a newline
    lines = list(resp_lines(Chunks(chunks)))
    assert len(lines[0]) == MAX_PENDING and lines[1] == "next"


def test_a_watch_keeps_an_object_longer_than_a_log_line() -> None:
    """The informers pass a bound above etcd's largest object: a 2 MiB event is whole."""
    from cockpit.sources.kube.watch import MAX_EVENT_BYTES

    event = b'{"object": "' + b"z" * (2 << 20) + b'"}'
    chunks = [event[i : i + 65_536] for i in range(0, len(event), 65_536)] + [b"\n"]
    assert list(resp_lines(Chunks(chunks), MAX_EVENT_BYTES)) == [event.decode()]
    assert len(next(iter(resp_lines(Chunks(chunks))))) == MAX_PENDING  # a log line's bound
