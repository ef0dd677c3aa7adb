"""What the censor reads: the SNI of real ClientHellos, the Host of requests, byte by byte."""

from __future__ import annotations

import pytest
from testbed_helpers import client_hello

from netvigil.testbed.wire import MAX_HEAD, FirstFlight, Protocol, classify, strip_port


def test_the_sni_of_a_real_client_hello() -> None:
    assert classify(client_hello("news.example")) == FirstFlight(Protocol.TLS, "news.example")


def test_a_client_hello_is_reassembled_from_segments() -> None:
    hello = client_hello("video.example")
    for cut in (1, 5, 40, len(hello) - 1):
        assert classify(hello[:cut]) is None, cut
    assert classify(hello).name == "video.example"


def test_a_client_hello_split_over_two_records() -> None:
    hello = client_hello("split.example")
    body = hello[5:]
    header = hello[:3]
    first, second = body[:50], body[50:]
    records = (header + len(first).to_bytes(2, "big") + first
               + header + len(second).to_bytes(2, "big") + second)
    assert classify(records[:60]) is None
    assert classify(records) == FirstFlight(Protocol.TLS, "split.example")


def test_a_client_hello_without_sni() -> None:
    hello = client_hello("news.example")
    without = hello.replace(b"news.example", b"")  # breaks the lengths: parsing must not crash
    assert classify(without) in (None, FirstFlight(Protocol.TLS, None))


@pytest.mark.parametrize(("data", "flight"), [
    (b"GET / HTTP/1.1\r\nHost: News.Example:8080\r\nAccept: */*\r\n\r\n",
     FirstFlight(Protocol.HTTP, "news.example")),
    (b"POST /x HTTP/1.1\r\nhost:forum.example\r\n\r\nbody", FirstFlight(Protocol.HTTP, "forum.example")),
    (b"GET / HTTP/1.0\r\n\r\n", FirstFlight(Protocol.HTTP, None)),
    (b"SSH-2.0-OpenSSH\r\n", FirstFlight(Protocol.OTHER, None)),
])
def test_requests_and_other_protocols(data: bytes, flight: FirstFlight) -> None:
    assert classify(data) == flight


def test_an_unfinished_request_needs_more_bytes_until_the_cap() -> None:
    assert classify(b"GE") is None
    assert classify(b"GET / HTTP/1.1\r\nHost: a.example\r\n") is None
    assert classify(b"GET /" + b"a" * MAX_HEAD) == FirstFlight(Protocol.HTTP, None)


@pytest.mark.parametrize(("host", "bare"), [("a.example:80", "a.example"), ("a.example", "a.example"),
                                            ("[::1]:80", "::1"), ("::1", "::1")])
def test_strip_port(host: str, bare: str) -> None:
    assert strip_port(host) == bare
