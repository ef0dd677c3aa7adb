"""Middlebox scenarios: a middlebox found is ``tampered``, never ``blocked``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib does not add it
from nettest_builders import measurement  # noqa: E402

SENT = {"HOSt": "x1.com", "aCCePT": "text/html", "UseR-AgENt": "Mozilla/5.0", "Connection": "close"}


def hhfm(received: dict | None, *, body: str | None = None, failure=None):
    if body is None and received is not None:
        body = json.dumps({"headers_dict": {k: [v] for k, v in received.items()}, "request_line": "geT / HTTP/1.1"})
    response = None if failure or body is None else {"code": 200, "body": body, "headers": {}}
    return {"requests": [{"request": {"url": "http://37.218.241.94:80", "method": "geT", "headers": SENT},
                          "response": response, "failure": failure}], "tampering": {"total": False}}


HHFM = {
    "headers echoed unchanged": (hhfm(SENT), ("ok", "ok", "middlebox.headers_intact")),
    "Connection: close dropped (HTTP stacks do that)": (
        hhfm({k: v for k, v in SENT.items() if k != "Connection"}), ("ok", "ok", "middlebox.headers_intact")),
    "header names normalised by a proxy": (
        hhfm({k.title(): v for k, v in SENT.items()}), ("tampered", "http.middlebox", "middlebox.headers_modified")),
    "a Via header added": (hhfm({**SENT, "Via": "1.1 squid"}), ("tampered", "http.middlebox", "middlebox.headers_modified")),
    "the helper refused the connection": (hhfm(None, failure="connection_refused_error"),
                                          ("unknown", "unknown", "middlebox.helper_unreachable")),
    "a response that is not the helper's echo": (hhfm(None, body="<html>gateway</html>"),
                                                 ("unknown", "unknown", "middlebox.helper_unreachable")),
    "no request recorded": ({"requests": None}, ("unknown", "unknown", "steps.no_data")),
}


@pytest.mark.parametrize("name", sorted(HHFM))
def test_header_field_manipulation(name):
    tk, expected = HHFM[name]
    s = analyze_measurement(measurement_from_dict(measurement("http_header_field_manipulation", tk)),
                            FingerprintDB.empty()).summary
    assert (s.outcome.value, s.technique.value, s.rule.split("@")[0]) == expected, s.to_dict()


def test_modified_headers_are_named():
    s = analyze_measurement(measurement_from_dict(measurement(
        "http_header_field_manipulation", HHFM["header names normalised by a proxy"][0])), FingerprintDB.empty()).summary
    assert s.layer.value == "http" and "HOSt" in s.evidence["headers_differing"]
    assert "Host" in s.evidence["case_normalised"]


LINES = ["GET / HTTP/D9S\n\r", "XHDP / HTTP/1.1\n\r", "YHS9T 02NZT W8JAS QEULU\n\r"]
HIRL = {
    "every line echoed": ({"sent": LINES, "received": LINES, "tampering": False},
                          ("ok", "middlebox.request_line_echoed")),
    "a proxy answered one line": ({"sent": LINES, "received": [LINES[0], "HTTP/1.1 400 Bad Request\r\n\r\n", LINES[2]],
                                   "tampering": True}, ("tampered", "middlebox.request_line_answered")),
    "no echo at all": ({"sent": LINES, "received": ["", "", ""], "tampering": True},
                       ("unknown", "middlebox.helper_unreachable")),
    "an empty echo beside exact echoes is not evidence": ({"sent": LINES, "received": [LINES[0], "", LINES[2]]},
                                                          ("ok", "middlebox.request_line_echoed")),
    "nothing sent": ({"sent": [], "received": []}, ("unknown", "steps.no_data")),
}


@pytest.mark.parametrize("name", sorted(HIRL))
def test_invalid_request_line(name):
    tk, expected = HIRL[name]
    s = analyze_measurement(measurement_from_dict(measurement("http_invalid_request_line", tk)),
                            FingerprintDB.empty()).summary
    assert (s.outcome.value, s.rule.split("@")[0]) == expected, s.to_dict()
    assert s.outcome.value != "blocked"
