"""The SDK against a live server: live runs stream their metrics, and `run.upload()` sends the bundle.

Real HTTP to `live_server`, a real API key, the configuration from the environment as a script
would have it; the server's answers are read back through the same REST API.
"""

from __future__ import annotations

import time

import pytest
import yaml

import em
from accounts import services as account_services
from em.client import api, config
from em.client.sdk.live import LiveStream
from em.models import Kind, Node
from tests.factories import folder, root

live = pytest.mark.django_db(transaction=True)


@live
def test_login_saves_the_configuration(live_server, alice, tmp_path, monkeypatch):
    monkeypatch.setenv(config.CONFIG_DIR_ENV, str(tmp_path / "em-config"))
    monkeypatch.delenv(config.HOST_ENV, raising=False)
    monkeypatch.delenv(config.API_KEY_ENV, raising=False)
    key = account_services.create_key(user=alice, name="sdk")[1]
    assert em.login(live_server.url, key) == "alice"
    assert config.load() == config.Config(host=live_server.url, api_key=key)


@live
def test_a_live_run_streams_its_metrics_and_ends_complete(signed_in, alice):
    folder(root(alice), "live")
    with em.create_run(name="streamed", folder="live", hparams={"lr": 0.1}, labels=["live"], live=True) as run:
        assert run.live is not None, "live mode did not start"
        for step in range(1, 501):
            run.log("training", {"loss": 1.0 / step, "acc": step / 500}, step=step, epoch=step // 100)
        run.log("val", {"loss": float("nan")}, step=500)  # a diverged value is data, live and in the bundle
    assert run.live.error is None
    assert run.live.dropped == 0
    assert run.live.sent == 1001
    node = Node.objects.get(name="streamed", kind=Kind.RUN)
    assert str(node.pk) == run.remote_id
    assert node.parent.name == "live"
    detail = api.run(signed_in, run.remote_id)
    assert detail["run"]["status"] == "Complete"
    assert detail["run"]["ended_at"] is not None
    assert detail["metrics"]["train.loss"]["count"] == 500
    assert detail["metrics"]["train.acc"]["latest"] == 1.0
    assert detail["metrics"]["val.loss"]["count"] == 1
    assert detail["metrics"]["val.loss"]["latest"] is None
    history = signed_in.get(f"runs/{run.remote_id}/metrics/train.loss", {"max_points": 1000})
    assert history["step"][:3] == [1, 2, 3]
    assert history["value"][-1] == pytest.approx(1 / 500)
    points = yaml.safe_load((run.folder / "metrics" / "val.yaml").read_text())
    assert len(points) == 1  # the bundle is written as always


@live
def test_a_live_run_that_fails_is_marked_error_on_the_server(signed_in, alice):
    runs: list[em.Run] = []

    def diverge() -> None:
        with em.create_run(name="crashes", live=True) as run:
            runs.append(run)
            run.log("train", {"loss": 1.0}, step=1)
            raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        diverge()
    assert api.run(signed_in, runs[0].remote_id)["run"]["status"] == "Error"


@live
def test_the_stream_drops_the_oldest_batches_instead_of_blocking(signed_in, alice):
    folder(root(alice), "bounded")
    created = api.create_live_run(signed_in, {"parent_path": "/alice/bounded", "name": "bounded"})
    stream = LiveStream(signed_in, str(created["id"]), max_batches=10)
    started = time.monotonic()
    for step in range(1000):  # far faster than the first flush, half a second away
        stream.put("train", {"loss": float(step)}, step, None, "2026-03-01T10:15:19.008778+08:00")
    assert time.monotonic() - started < 0.5
    stream.close()
    assert stream.error is None
    assert stream.dropped >= 990 - 10  # all but the last few batches
    series = api.run(signed_in, str(created["id"]))["metrics"]["train.loss"]
    assert series["count"] == stream.sent == 1000 - stream.dropped
    assert series["latest"] == 999.0


@live
def test_live_mode_with_a_refused_key_falls_back_to_the_bundle(signed_in, monkeypatch, capfd):
    monkeypatch.setenv(config.API_KEY_ENV, "em_not-a-real-key")
    with em.create_run(name="offline", live=True) as run:
        run.log("train", {"loss": 1.0}, step=1)
    assert run.live is None
    assert "live mode is off (This API key is not valid.)" in capfd.readouterr().err
    assert yaml.safe_load((run.folder / "metadata.yaml").read_text())["status"] == "Complete"


@live
def test_run_upload_sends_the_bundle_once(signed_in, alice):
    with em.create_run(name="offline-then-up", folder="em-examples", make_folder=True, hparams={"lr": 0.01}) as run:
        run.log("train", {"loss": 0.5}, step=1)
    node = run.upload()
    assert node is not None
    assert node["path"] == "/alice/em-examples/offline-then-up"
    assert node["kind"] == "Run"
    metadata_before = (run.folder / "metadata.yaml").read_bytes()
    files = {f["path"] for f in api.node_files(signed_in, node["id"])}
    assert {"metadata.yaml", "index.yaml", "hyperparameters.yaml", "metrics/train.yaml", "stdout.log"} <= files
    again = run.upload()  # the server knows this bundle by its own id: skipped, nothing written locally
    assert again is None or again["id"] == node["id"]
    assert Node.objects.filter(name="offline-then-up").count() == 1
    assert (run.folder / "metadata.yaml").read_bytes() == metadata_before


@live
def test_the_client_starts_a_run_with_its_first_points_nan_kept(signed_in, alice):
    """`api.create_live_run` sends the first points as live logging does: a NaN travels as a token."""
    folder(root(alice), "imports")
    metrics = {"val.loss": {"step": [1, 2], "value": [0.5, float("nan")]}}
    made = api.create_live_run(signed_in, {"parent_path": "/alice/imports", "name": "old", "metrics": metrics})
    assert made["metrics"]["val.loss"]["count"] == 2
    history = signed_in.get(f"runs/{made['id']}/metrics/val.loss")
    assert history["value"] == [0.5, None]
