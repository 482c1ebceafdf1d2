"""checks.pipes: the hook script line that keeps the agent waiting until the hook's timeout."""

from __future__ import annotations

import pytest

from checks.bundlefile import script_facts
from checks.pipes import explain, holding_line


@pytest.mark.parametrize(
    ("script", "line", "command", "how"),
    [
        # a foreground server never lets the script end, wherever it stands
        (b"#!/bin/bash\ncd /srv/app\nnpm start\n", 3, "npm start", "foreground"),
        (b"#!/bin/bash\nnpm start\necho done\n", 2, "npm start", "foreground"),
        (b"#!/bin/bash\ncd /app && node server.js\necho up\n", 2, "node server.js", "foreground"),
        (b"#!/bin/bash\njava -jar app.jar; echo done\n", 2, "java -jar app.jar", "foreground"),
        # the first of the two the script reaches
        (
            b"#!/bin/bash\nnode api.js\nnode worker.js &\n",
            2,
            "node api.js",
            "foreground",
        ),
        (
            b"#!/bin/bash\nexec java -jar app.jar --port 80\n",
            2,
            "java -jar app.jar --port 80",
            "foreground",
        ),
        (
            b"#!/bin/bash\nsudo -u app uvicorn main:app\n",
            2,
            "sudo -u app uvicorn main:app",
            "foreground",
        ),
        # `&` without redirecting stdout and stderr
        (b"#!/bin/bash\nnode server.js &\n", 2, "node server.js", "background"),
        (
            b"#!/bin/bash\nset -e\nnode server.js &\necho started\n",
            3,
            "node server.js",
            "background",
        ),
        # nohup redirects only when its output is a terminal: under the agent it is a pipe
        (b"#!/bin/bash\nnohup java -jar app.jar &\n", 2, "java -jar app.jar", "background"),
        # only stdout redirected: stderr is still the agent's pipe
        (b"#!/bin/bash\nnode server.js > /var/log/app.log &\n", 2, "node server.js", "background"),
        # 2>&1 before > copies the pipe into fd 2
        (b"#!/bin/bash\nnode server.js 2>&1 >/dev/null &\n", 2, "node server.js", "background"),
        (b"#!/bin/bash\nfor i in 1; do\n  ./worker &\ndone\n", 3, "./worker", "background"),
    ],
)
def test_a_line_that_holds_the_pipe(script: bytes, line: int, command: str, how: str) -> None:
    found = holding_line(script)
    assert found is not None, script
    assert (found["line"], found["command"], found["how"]) == (line, command, how)


@pytest.mark.parametrize(
    "script",
    [
        b"#!/bin/bash\nnode server.js > /dev/null 2>&1 &\n",
        b"#!/bin/bash\nnohup node server.js > /var/log/app.log 2>&1 < /dev/null &\n",
        b"#!/bin/bash\nmyapp > /dev/null 2> /dev/null < /dev/null &\n",
        b"#!/bin/bash\nnode server.js &>/dev/null &\n",
        b"#!/bin/bash\nexec >>/var/log/deploy.log 2>&1\nnode server.js &\n",
        b"#!/bin/bash\ngunicorn -D app:app\n",
        b"#!/bin/bash\nnode server.js > /dev/null 2>&1 &\nnode --version\n",
        b"#!/bin/bash\nsystemctl restart myapp\n",
        b"#!/usr/bin/env python3\nimport os\n",
        b"#!/bin/bash\nnode --version\nnpm install\nnpm test\n",  # each ends
        b"#!/bin/bash\nnode server.js > /dev/null 2>&1 < /dev/null &\necho started\n",
        b"#!/bin/bash\nif then (\n",  # unparsable: nothing certain
    ],
)
def test_a_script_that_lets_go(script: bytes) -> None:
    assert holding_line(script) is None


def test_the_bundle_facts_carry_it_and_the_words_name_line_and_fix() -> None:
    facts = script_facts(b"#!/bin/bash\nnode server.js &\n", 0o755)
    why, action = explain("scripts/start.sh", facts["holds"], None)
    assert why == (
        "scripts/start.sh's line 2 `node server.js &` keeps the agent's output pipe open: the "
        "agent waits until the hook's timeout (3600 s)"
    )
    assert action.startswith(
        "Redirect the output of `node server.js` and detach it "
        "(`node server.js > /dev/null 2>&1 < /dev/null &`)"
    )
    # a CRLF script never starts: it cannot hang
    assert script_facts(b"#!/bin/bash\r\nnode server.js &\r\n", 0o755)["holds"] is None
