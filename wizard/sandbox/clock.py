"""The sandbox's compressed clock, and the one lock that guards all simulated state.

Time in the sandbox is compressed: a lifecycle event takes `CLOCK.event` wall seconds (0.12 s by
default, `CODEDEPLOY_WIZARD_SANDBOX_EVENT_SECONDS` to change it), a deployment starts two events
after it is created, and a hung script or an agent that never answers takes five events. A new
instance boots too: its SSM agent registers `boot` (two events) after launch, and a CodeDeploy
agent installed by user data runs `agent_install` (five events) after launch — on AWS the instance
boots, cloud-init runs the user data, the installer downloads and starts the agent: minutes. Modules
read `clock.CLOCK` at call time, so tests can swap it (`monkeypatch.setattr(clock, "CLOCK", …)`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

# every handler that reads or moves simulated state (deployments, instance filesystems) holds it
LOCK = threading.RLock()


@dataclass
class Clock:
    """Compressed time: how long things take in the sandbox, in wall seconds."""

    start_delay: float = 0.25
    event: float = 0.12
    slow_event: float = 0.6  # a script that times out, an agent that never answers
    # launch -> the SSM agent registers / a CodeDeploy agent installed by user data runs;
    # (negative: two and five events, so a clock made faster for a test boots faster too)
    boot: float = -1.0
    agent_install: float = -1.0

    def __post_init__(self) -> None:
        if self.boot < 0:
            self.boot = 2 * self.event
        if self.agent_install < 0:
            self.agent_install = 5 * self.event

    @classmethod
    def from_env(cls) -> Clock:
        raw = os.environ.get("CODEDEPLOY_WIZARD_SANDBOX_EVENT_SECONDS")
        try:
            event = float(raw) if raw else 0.12
        except ValueError:
            event = 0.12
        event = max(0.0, event)
        return cls(start_delay=max(0.05, 2 * event), event=event, slow_event=5 * event)


CLOCK = Clock.from_env()
