"""Outcomes: `ScenarioResult` (passed / failed / skipped + reason + time) and its steps.

A skipped scenario is never counted as passed: skips carry the reason (a missing
capability, an unavailable target). `detail` is the full failure report; `reason` is
the one line the summary table and JUnit's `message` attribute show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from hil.errors import display_path


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class StepResult:
    index: int
    kind: str
    where: str
    status: str  # passed | failed | not_run
    duration_s: float = 0.0
    clock: str = "wall"  # what its timeout counted: wall, or simulated (Wokwi)
    on: str | None = None  # the device it acted on (`on:`; None: the first device)
    # What the step measured (expect_audio: the audio measurements, transcript, WER), kept
    # whether it passed or failed.
    measured: dict[str, object] | None = None


@dataclass
class ScenarioResult:
    name: str
    path: Path
    status: Status
    reason: str = ""
    detail: str = ""
    duration_s: float = 0.0
    artifact_dir: Path | None = None
    tags: tuple[str, ...] = ()
    target: str = ""
    steps: list[StepResult] = field(default_factory=list)
    variables: dict[str, object] = field(default_factory=dict)
    # A scenario with `devices:`: name -> {device_id, console, connections} (hil.runner.devices)
    devices: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    def failure_text(self) -> str:
        """What a user reads for this result (CLI details, pytest's failure section)."""
        head = f"{self.name} ({display_path(self.path)}) {self.status.value}"
        body = self.detail or self.reason
        tail = f"\nartifacts: {display_path(self.artifact_dir)}" if self.artifact_dir else ""
        return f"{head}: {body}{tail}" if body else head + tail

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "file": str(self.path),
            "target": self.target,
            "status": self.status.value,
            "reason": self.reason,
            "detail": self.detail,
            "duration_s": round(self.duration_s, 3),
            "tags": list(self.tags),
            "steps": [vars(step) for step in self.steps],
            "variables": {k: v for k, v in self.variables.items() if not k.startswith("server.")},
            **({"devices": self.devices} if self.devices else {}),
        }

    def write(self) -> None:
        if self.artifact_dir is not None:
            self.artifact_dir.mkdir(parents=True, exist_ok=True)
            text = json.dumps(self.to_json(), indent=2, ensure_ascii=False, default=str)
            (self.artifact_dir / "result.json").write_text(text + "\n", encoding="utf-8")
