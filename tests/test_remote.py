"""Remote policies: the msgpack-numpy codec, the websocket client against fake openpi servers on 127.0.0.1
(metadata first, binary frames, a failure as a text frame then close 1011, a server that disappears), and
`pi0` runs whose failed episodes are error rows while the run goes on."""

from __future__ import annotations

import threading
import traceback
from contextlib import contextmanager

import numpy as np
import pytest
from eva_bench.policies.remote.client import RemotePolicyError, WebsocketPolicyClient
from eva_bench.policies.remote.codec import CodecError, packb, unpackb
from typer.testing import CliRunner

from eva_bench.cli import app
from eva_bench.policy import make_policy
from eva_bench.sim.embodiment import PIPER_BIMANUAL
from eva_bench.store import ResultsStore


def test_codec_round_trips_arrays_scalars_and_plain_values_and_refuses_objects() -> None:
    value = {"state": np.arange(14, dtype=np.float32), "images": {"cam_high": np.zeros((3, 4, 5), np.uint8)},
             "prompt": "click the bell", "n": np.int64(7), "list": [1, 2.5, "x"]}
    back = unpackb(packb(value))
    np.testing.assert_array_equal(back["state"], value["state"])
    assert back["state"].dtype == np.float32 and not back["state"].flags.writeable
    assert back["images"]["cam_high"].shape == (3, 4, 5) and back["n"] == 7 and back["n"].dtype == np.int64
    assert back["prompt"] == "click the bell" and back["list"] == [1, 2.5, "x"]
    with pytest.raises(CodecError, match="object"):
        packb({"bad": np.array([object()])})
    with pytest.raises(CodecError, match="complex"):
        unpackb(packb({"z": {b"__ndarray__": True, b"data": b"", b"dtype": "<c16", b"shape": [0]}}))


@contextmanager
def fake_server(reply, fail_after: int | None = None, vanish_after: int | None = None):
    """An openpi-style server on a free local port: metadata first, then `reply(observation)` per request;
    request number `fail_after` + 1 is answered with a traceback text frame and close 1011 (later ones are served
    again); after `vanish_after` requests every connection is dropped without a word. Yields the port and the
    list of received observations."""
    from websockets.sync.server import serve

    received = []

    def handler(connection) -> None:
        connection.send(packb({"server": "fake", "action_horizon": 50}))
        for message in connection:
            observation = unpackb(message)
            received.append(observation)
            if vanish_after is not None and len(received) > vanish_after:
                connection.socket.close()  # gone: no close frame
                return
            if fail_after is not None and len(received) == fail_after + 1:
                try:
                    raise ValueError("the model broke")
                except ValueError:
                    connection.send(traceback.format_exc())
                connection.close(1011, "internal error")
                return
            connection.send(packb(reply(observation)))

    with serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.socket.getsockname()[1], received
        finally:
            server.shutdown()
            thread.join(5)


def stay_put(observation) -> dict:
    """50 actions holding the observed state (a policy that stays put), as RoboTwin's pi0 server returns."""
    return {"actions": np.repeat(observation["state"][None], 50, axis=0), "server_timing": {"infer_ms": 1.0}}


def test_client_reads_metadata_infers_and_reports_server_failures() -> None:
    with fake_server(stay_put, fail_after=1) as (port, received):
        client = WebsocketPolicyClient(port=port, timeout_s=5, retries=1)
        assert client.connect()["server"] == "fake"
        state = np.linspace(0, 1, 14, dtype=np.float32)
        reply = client.infer({"state": state, "prompt": "p"})
        np.testing.assert_array_equal(reply["actions"][0], state)
        with pytest.raises(RemotePolicyError, match="(?s)the policy server failed:.*the model broke"):
            client.infer({"state": state, "prompt": "p"})
        np.testing.assert_array_equal(client.infer({"state": state})["actions"][3], state)  # reconnected
        client.close()
    with pytest.raises(RemotePolicyError, match="cannot reach the policy server .* after 2 attempt"):
        WebsocketPolicyClient(port=port, timeout_s=1, retries=2, retry_delay_s=0.01).connect()


def test_a_silent_server_times_out() -> None:
    from websockets.sync.server import serve

    def mute(connection) -> None:
        connection.send(packb({}))
        for _ in connection:
            pass  # never answers

    with serve(mute, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client = WebsocketPolicyClient(port=server.socket.getsockname()[1], timeout_s=0.5, retries=1)
        with pytest.raises(RemotePolicyError, match="no reply within 0.5 s"):
            client.infer({"state": np.zeros(14, np.float32)})
        server.shutdown()


def test_pi0_sends_robotwins_aloha_observation() -> None:
    with fake_server(stay_put) as (port, received):
        policy = make_policy("pi0", options={"port": str(port), "timeout_s": "5"})
        assert policy.camera_requests() == {"head_camera": (320, 240), "left_camera": (320, 240),
                                            "right_camera": (320, 240)}
        policy.reset("click_bell", "click the bell", 100000)
        frames = {c: {"rgb": np.full((240, 320, 3), i, np.uint8)} for i, c in enumerate(policy.cameras)}
        state = PIPER_BIMANUAL.home_action().astype(np.float32)
        chunk = policy.act({"observation": frames, "joint_action": {"vector": state}})
    (observation,) = received
    assert set(observation) == {"state", "images", "prompt"} and observation["prompt"] == "click the bell"
    assert {k: v.shape for k, v in observation["images"].items()} == {
        "cam_high": (3, 240, 320), "cam_left_wrist": (3, 240, 320), "cam_right_wrist": (3, 240, 320)}
    left = observation["images"]["cam_left_wrist"]
    assert left.dtype == np.uint8 and left[0, 0, 0] == 1
    assert chunk.shape == (50, 14) and np.allclose(chunk[0], state)


def test_a_pi0_run_survives_a_server_that_fails_then_disappears(tmp_path) -> None:
    db = tmp_path / "db.sqlite"
    with fake_server(stay_put, fail_after=1) as (port, received):
        args = ["run", "--policy", "pi0", "--policy-option", f"port={port}", "--policy-option", "timeout_s=5",
                "--policy-option", "retries=1", "--tasks", "_test_pulse", "--episodes", "3", "--db", str(db),
                "--out", str(tmp_path / "ep"), "--no-video", "--reward-idm", "none", "--run-id", "r"]
        run = CliRunner().invoke(app, args)
        assert run.exit_code == 0, run.output
    with ResultsStore(db) as store:
        episodes = store.episodes("r")
    assert len(episodes) == 3
    assert episodes[0].error is None  # the server answered the first query
    assert "the model broke" in episodes[1].error  # then failed: an error row, and the run went on
    assert episodes[2].error is None  # reconnected for the next episode ...
    with fake_server(stay_put, vanish_after=0) as (port, _):
        args[4] = f"port={port}"
        args[-1] = "r2"
        run = CliRunner().invoke(app, args)
        assert run.exit_code == 0, run.output
    with ResultsStore(db) as store:
        errors = [e.error for e in store.episodes("r2")]
    assert len(errors) == 3 and all(errors)  # a server that vanishes fails each episode, not the run
