"""Runs a RoboTwin 2.0 policy folder, unchanged, in the policy's own interpreter (stdlib + numpy only here).

    python robotwin_host.py        (started by the `robotwin` policy, which talks to it over stdin/stdout)

RoboTwin's contract (its script/eval_policy.py): chdir to the RoboTwin root; sys.path gets the root, root/policy
and root/description/utils; `importlib.import_module(NAME)` (the folder's __init__ re-exports deploy_policy);
`get_model(usr_args)` once, `reset_model(model)` before each episode, then while take_action_cnt < step_lim:
`eval(TASK_ENV, model, TASK_ENV.get_obs())`, inside which the policy calls `TASK_ENV.get_instruction()`,
`TASK_ENV.get_obs()` and `TASK_ENV.take_action(action, action_type='qpos')`, and reads `take_action_cnt`,
`step_lim` and `eval_success`. Here TASK_ENV is a stand-in whose `take_action` sends the action to the harness
and blocks until the harness has executed it and sent the next observation.

Messages are frames of `encode` / `decode`: a JSON header whose arrays are replaced by references, then the
arrays as .npy blobs (no pickle). The harness sends {"op": "init", "usr_args", "root", "module"}, {"op":
"reset", "instruction", "step_lim"}, {"op": "step", "obs", "eval_success"} and {"op": "close"}; the host answers
init and reset with {"op": "ok"}, each step with {"op": "action", "action"} (or {"op": "idle"} when the policy's
`eval` returned without acting), and any failure with {"op": "error", "traceback"}. The policy's own prints go
to stderr: stdout carries the frames.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import struct
import sys
import traceback

import numpy as np


# ---------------------------------------------------------------------------------------------------- codec
def encode(message: dict) -> bytes:
    """One frame: 4-byte header length, the JSON header, 4-byte array count, each array as 8-byte length + .npy."""
    arrays: list[np.ndarray] = []

    def strip(value):
        if isinstance(value, np.ndarray | np.generic):
            arrays.append(np.asarray(value))
            return {"__array__": len(arrays) - 1}
        if isinstance(value, dict):
            return {str(k): strip(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [strip(v) for v in value]
        return value

    header = json.dumps(strip(message)).encode()
    parts = [struct.pack("<I", len(header)), header, struct.pack("<I", len(arrays))]
    for array in arrays:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        parts += [struct.pack("<Q", buffer.tell()), buffer.getvalue()]
    return b"".join(parts)


def _read_exact(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the other side closed the pipe")
    return data


def decode(stream) -> dict:
    """The next frame of a binary stream (see `encode`); EOFError when the stream ends."""
    header = json.loads(_read_exact(stream, struct.unpack("<I", _read_exact(stream, 4))[0]))
    count = struct.unpack("<I", _read_exact(stream, 4))[0]
    arrays = [np.load(io.BytesIO(_read_exact(stream, struct.unpack("<Q", _read_exact(stream, 8))[0])),
                      allow_pickle=False) for _ in range(count)]

    def restore(value):
        if isinstance(value, dict):
            return arrays[value["__array__"]] if set(value) == {"__array__"} else {k: restore(v) for k, v in
                                                                                 value.items()}
        if isinstance(value, list):
            return [restore(v) for v in value]
        return value

    return restore(header)


# ---------------------------------------------------------------------------------------------------- host
class _EpisodeOverError(Exception):
    """The harness moved on (reset or close) while the policy was inside `eval`."""

    def __init__(self, message: dict) -> None:
        super().__init__(message.get("op"))
        self.message = message


class TaskEnv:
    """The stand-in for RoboTwin's task environment that a policy's `eval` talks to."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.obs: dict = {}
        self.instruction = ""
        self.step_lim = 0
        self.take_action_cnt = 0
        self.eval_success = False
        self.acted = False

    def get_obs(self) -> dict:
        return self.obs

    def get_instruction(self) -> str:
        return self.instruction

    def set_instruction(self, instruction: str) -> None:
        self.instruction = instruction

    def take_action(self, action, action_type: str = "qpos") -> None:
        if action_type != "qpos":
            raise ValueError(f"the harness executes joint targets (action_type 'qpos'), not {action_type!r}")
        self.host.send({"op": "action", "action": np.asarray(action, np.float32).reshape(-1)})
        message = self.host.receive()
        if message.get("op") != "step":
            raise _EpisodeOverError(message)
        self.observe(message)

    def observe(self, message: dict) -> None:
        self.obs, self.eval_success = message["obs"], bool(message.get("eval_success", False))
        self.take_action_cnt += 1
        self.acted = True


class Host:
    """The host's loop over the harness's messages (module docstring)."""

    def __init__(self, inp, out) -> None:
        self.inp, self.out = inp, out
        self.env = TaskEnv(self)
        self.module = None
        self.model = None

    def send(self, message: dict) -> None:
        self.out.write(encode(message))
        self.out.flush()

    def receive(self) -> dict:
        return decode(self.inp)

    def handle(self, message: dict) -> bool:
        """Serve one harness message (and the ones the policy consumes while acting); False on close."""
        while message is not None:
            op = message.get("op")
            try:
                if op == "close":
                    return False
                if op == "init":
                    root = message["root"]
                    os.chdir(root)
                    for path in (root, os.path.join(root, "policy"), os.path.join(root, "description", "utils")):
                        if path not in sys.path:
                            sys.path.insert(0, path)
                    self.module = importlib.import_module(message["module"])
                    self.model = self.module.get_model(message["usr_args"])
                    self.send({"op": "ok"})
                    return True
                if op == "reset":
                    self.env.instruction, self.env.step_lim = message["instruction"], int(message["step_lim"])
                    self.env.take_action_cnt, self.env.eval_success = 0, False
                    self.module.reset_model(self.model)
                    self.send({"op": "ok"})
                    return True
                if op == "step":
                    self.env.obs, self.env.eval_success = message["obs"], bool(message.get("eval_success"))
                    self.env.acted = False
                    self.module.eval(self.env, self.model, self.env.get_obs())
                    # `eval` returned: the harness waits for an action for the latest observation
                    if not self.env.acted:
                        self.send({"op": "idle"})
                        return True
                    # RoboTwin's loop calls `eval` again on the current observation
                    message = {"op": "step", "obs": self.env.obs, "eval_success": self.env.eval_success}
                    continue
                raise ValueError(f"unknown message {op!r}")
            except _EpisodeOverError as over:
                message = over.message
            except Exception:  # noqa: BLE001 (the policy's own failure: reported, the host lives on)
                self.send({"op": "error", "traceback": traceback.format_exc()})
                return True
        return True


def main() -> None:
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # RoboTwin policies print a lot; stdout carries the frames
    os.dup2(sys.stderr.fileno(), 1)
    host = Host(sys.stdin.buffer, protocol_out)
    while True:
        try:
            message = host.receive()
        except EOFError:
            return
        if not host.handle(message):
            return


if __name__ == "__main__":
    main()
