"""An SMS backend for the fault tests (`SMS_BACKEND=tests.fault_sms.SlowSms`).

It stands for a provider that takes its time: each send writes `begin <to> <pid>` to the file
`FAULT_SMS_LOG`, waits until the file `FAULT_SMS_GATE` exists, then writes
`delivered <to>` (the provider accepted the message) and returns. A worker killed while it
waits leaves a `begin` with no `delivered`: the provider never took that message.
"""

import os
import time
import uuid
from pathlib import Path


def _append(line: str) -> None:
    with Path(os.environ["FAULT_SMS_LOG"]).open("a") as log:
        log.write(line + "\n")
        log.flush()
        os.fsync(log.fileno())


class SlowSms:
    def send(self, *, to: str, body: str, sender: str) -> str:
        _append(f"begin {to} {os.getpid()}")
        gate = Path(os.environ["FAULT_SMS_GATE"])
        deadline = time.monotonic() + 120
        while not gate.exists():
            if time.monotonic() > deadline:
                raise OSError("the test never opened the gate")
            time.sleep(0.02)
        _append(f"delivered {to}")
        return f"slow-{uuid.uuid4().hex[:12]}"
