"""Sessions in the window: File → Save / Open continue exactly, bad files change nothing,
the recovery copy survives an unclean exit, and quitting asks before training is lost."""
import json
import subprocess
import sys

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent

from core import OptimizerConfig, load_scenario
from core.session import DataSource, load_session, save_session
from gui.worker import BATCH
from window_helpers import TIMEOUT, on_worker, settle


def loss_series(trainer):
    return trainer.history.loss.arrays()


class Recorder:
    """Stands in for a dialog: records what it was asked and gives a fixed answer."""

    def __init__(self, answer=None):
        self.answer, self.calls = answer, []

    def __call__(self, *args):
        self.calls.append(args)
        return self.answer


class UserClose(QCloseEvent):
    """A close from the window system (the title bar's ×), as opposed to close() in code."""

    def spontaneous(self):
        return True


def train_a_little(window, qtbot, epochs=5):
    settle(window, qtbot, window.run_epochs(epochs))
    assert window.sessions.is_dirty()


ADAM = OptimizerConfig(name="adam", lr=0.01)


def test_saved_then_reopened_session_trains_on_exactly_as_if_never_stopped(make_window, qtbot, tmp_path):
    # Mini-batches of one shuffled sample, Adam, saved in the middle of an epoch.
    first = make_window("noisy-minibatches")
    settle(first, qtbot, first._send(lambda w: w.set_optimizer(ADAM)))
    settle(first, qtbot, first.run_epochs(3))
    first.set_granularity(BATCH)
    settle(first, qtbot, first.step())
    saved = settle(first, qtbot, first.step())
    assert (saved.epoch, saved.batch_in_epoch) == (3, 2)
    path = tmp_path / "class.json"
    assert first.sessions.save_to(path)
    assert first.windowTitle().startswith("class.json") and not first.isWindowModified()

    second = make_window("lecture-house-prices")
    assert second.sessions.open_session(path)
    opened = settle(second, qtbot)
    assert np.array_equal(opened.params, saved.params)
    assert (opened.epoch, opened.steps, opened.batch_in_epoch) == (saved.epoch, saved.steps, 2)
    assert second.windowTitle().startswith("class.json") and not second.isWindowModified()
    assert second.scenario.name == "noisy-minibatches"
    continued = settle(second, qtbot, second.run_epochs(4))
    assert second.isWindowModified()

    reference = load_scenario("noisy-minibatches").make_trainer()
    reference.set_optimizer(ADAM)
    reference.run_epochs(3)
    reference.set_batch_size(reference.config.batch_size)     # what the BATCH granularity sends
    reference.run_batches(2)
    reference.run_epochs(4)
    assert continued.epoch == reference.epoch
    assert np.array_equal(continued.params, reference.net.params)
    epochs, losses = on_worker(second, qtbot, loss_series)
    ref_epochs, ref_losses = loss_series(reference)
    assert np.array_equal(epochs, ref_epochs) and np.array_equal(losses, ref_losses)


def test_view_options_are_saved_with_the_session_and_restored(make_window, qtbot, tmp_path):
    window = make_window()
    window.set_colour_mode("gradient")
    window.loss_plot.set_log_scale(True)
    window.sample_box.setValue(4)
    window.labels_box.setChecked(False)
    path = tmp_path / "view.json"
    assert window.sessions.save_to(path)
    assert load_session(path).view == {"colour_mode": "gradient", "log_loss": True, "sample": 3,
                                       "show_labels": False}
    other = make_window()
    assert other.sessions.open_session(path)
    snap = settle(other, qtbot)
    assert other.network_view.state.mode == "gradient" and other.colour_buttons["gradient"].isChecked()
    assert other.loss_plot.is_log_scale() and not other.labels_box.isChecked()
    assert other.sample_box.value() == 4 and snap.sample == 3


def _bad_files(good: dict, folder):
    text = json.dumps(good)
    newer = dict(good, format_version=good["format_version"] + 1)
    files = {
        "truncated": text[: len(text) // 2],
        "foreign": json.dumps({"format": "something-else", "weights": [1, 2, 3]}),
        "newer": json.dumps(newer),
        "binary": b"\x89PNG\r\n\x1a\n\x00\x00",
        "missing-state": json.dumps({k: v for k, v in good.items() if k != "state"}),
    }
    paths = {}
    for kind, content in files.items():
        path = folder / f"{kind}.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths[kind] = path
    return paths


def test_a_bad_session_file_shows_a_message_and_changes_nothing(make_window, qtbot, tmp_path):
    good = tmp_path / "good.json"
    trainer = load_scenario("lecture-house-prices").make_trainer()
    trainer.run_epochs(7)
    save_session(good, trainer, DataSource(load_scenario("lecture-house-prices").dataset))
    window = make_window()
    train_a_little(window, qtbot)
    mine = tmp_path / "mine.json"
    assert window.sessions.save_to(mine)
    before = settle(window, qtbot, window.run_epochs(2))
    worker, title = window.worker, window.windowTitle()
    errors = window.sessions.show_error = Recorder()
    window.sessions.confirm_unsaved = Recorder("discard")
    for kind, path in _bad_files(json.loads(good.read_text(encoding="utf-8")), tmp_path).items():
        assert not window.sessions.open_session(path), kind
        assert len(errors.calls) == 1, kind
        message = errors.calls.pop()[1]
        assert path.name in message, message
        if kind == "newer":
            assert "newer" in message
        assert window.worker is worker and window.windowTitle() == title
        assert window.sessions.path == mine and window.isWindowModified()
        now = settle(window, qtbot)
        assert np.array_equal(now.params, before.params) and now.epoch == before.epoch
    assert window.sessions.confirm_unsaved.calls == []      # never got as far as replacing


def test_a_session_whose_csv_changed_opens_with_its_embedded_data_only_if_asked(make_window, qtbot, tmp_path):
    csv = tmp_path / "houses.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    sc = load_scenario("lecture-house-prices")
    trainer = sc.make_trainer()
    trainer.run_epochs(9)
    path = tmp_path / "houses.json"
    save_session(path, trainer, DataSource.from_csv(sc.dataset, csv))
    csv.write_text("a,b\n1,3\n", encoding="utf-8")
    window = make_window()
    train_a_little(window, qtbot, 3)
    worker = window.worker
    ask = window.sessions.confirm_open_embedded = Recorder(False)
    assert not window.sessions.open_session(path)
    assert "changed" in ask.calls[0][0] and window.worker is worker
    ask.answer = True
    window.sessions.confirm_unsaved = Recorder("discard")
    assert window.sessions.open_session(path)
    assert settle(window, qtbot).epoch == 9 and window.worker is not worker
    # Saved again, it still names the CSV and its (original) hash.
    again = tmp_path / "again.json"
    assert window.sessions.save_to(again)
    assert json.loads(again.read_text(encoding="utf-8"))["source"]["kind"] == "csv"


def test_a_failed_save_says_why_and_loses_nothing(make_window, qtbot, tmp_path):
    window = make_window()
    train_a_little(window, qtbot)
    errors = window.sessions.show_error = Recorder()
    assert not window.sessions.save_to(tmp_path / "no such folder" / "s.json")
    assert "cannot write" in errors.calls[0][1]
    assert window.sessions.path is None and window.sessions.is_dirty()
    # Save without a file asks for one; a cancelled dialog saves nothing.
    window.sessions.choose_save_path = Recorder("")
    assert not window.sessions.save()
    window.sessions.choose_save_path = Recorder(str(tmp_path / "chosen"))
    assert window.sessions.save()
    assert (tmp_path / "chosen.json").is_file() and not window.sessions.is_dirty()


def _leave_stale_lock(lock_path):
    """A process that takes the recovery file's lock and dies without releasing it."""
    code = ("import os, sys\nfrom PySide6.QtCore import QLockFile\n"
            "lock = QLockFile(sys.argv[1]); lock.setStaleLockTime(0)\n"
            "assert lock.tryLock(0)\nos._exit(0)\n")
    subprocess.run([sys.executable, "-c", code, str(lock_path)], check=True, timeout=60)
    assert lock_path.exists()


def test_autosave_keeps_a_recovery_copy_that_an_unclean_exit_offers_to_restore(make_window, qtbot):
    first = make_window()
    sessions = first.sessions
    sessions.set_autosave_interval(0.05)
    trained = settle(first, qtbot, first.run_epochs(6))
    recovery = sessions.recovery_path
    qtbot.waitUntil(lambda: recovery.is_file() and sessions._autosaved is not None, timeout=TIMEOUT)
    assert load_session(recovery).trainer.epoch == 6

    second = make_window()
    assert second.sessions.orphaned_recovery() is None        # its owner is alive
    # The first window's process "crashes": its recovery file stays behind, with a lock
    # whose process is gone.
    orphan = recovery.with_name("recovery-999999-0.json")
    orphan.write_bytes(recovery.read_bytes())
    _leave_stale_lock(orphan.with_suffix(".lock"))
    first.close()
    assert not recovery.exists()                                # a clean quit removes its own

    asked = second.sessions.confirm_restore = Recorder(True)
    assert second.sessions.offer_recovery()
    assert "epoch 6" in asked.calls[0][0]
    restored = settle(second, qtbot)
    assert restored.epoch == 6 and np.array_equal(restored.params, trained.params)
    assert second.isWindowModified() and second.sessions.path is None
    assert not orphan.exists() and not orphan.with_suffix(".lock").exists()
    # Until the next autosave the restored copy is the second window's own recovery file,
    # so a second crash does not lose it.
    assert load_session(second.sessions.recovery_path).trainer.epoch == 6
    assert second.sessions.offer_recovery() is False            # nothing left to offer


def test_a_declined_recovery_is_deleted_and_a_corrupt_one_kept_aside(make_window, tmp_path):
    window = make_window()
    folder = window.sessions.recovery_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    sc = load_scenario("lecture-house-prices")
    trainer = sc.make_trainer()
    trainer.run_epochs(2)
    declined = folder / "recovery-999998-0.json"
    save_session(declined, trainer, DataSource.from_scenario(sc))
    window.sessions.confirm_restore = Recorder(False)
    assert not window.sessions.offer_recovery()
    assert not declined.exists()
    corrupt = folder / "recovery-999997-0.json"
    corrupt.write_text("{", encoding="utf-8")
    errors = window.sessions.show_error = Recorder()
    assert not window.sessions.offer_recovery()
    assert errors.calls and (folder / "unreadable-recovery-999997-0.json").is_file()
    assert not window.sessions.offer_recovery() and len(errors.calls) == 1   # not offered again


def test_closing_with_unsaved_training_asks_save_discard_or_cancel(make_window, qtbot, tmp_path):
    window = make_window()
    asked = window.sessions.confirm_unsaved = Recorder("cancel")
    clean = UserClose()
    window.closeEvent(clean)                    # nothing trained: nothing to ask
    assert clean.isAccepted() and asked.calls == []
    window = make_window()
    asked = window.sessions.confirm_unsaved = Recorder("cancel")
    train_a_little(window, qtbot)
    event = UserClose()
    window.closeEvent(event)
    assert not event.isAccepted() and asked.calls == [("Quitting",)]
    assert window.training_thread_running()
    # Save: to a file chosen then, and the close goes ahead.
    asked.answer = "save"
    window.sessions.choose_save_path = Recorder(str(tmp_path / "kept.json"))
    event = UserClose()
    window.closeEvent(event)
    assert event.isAccepted() and not window.training_thread_running()
    assert load_session(tmp_path / "kept.json").trainer.epoch == 5


def test_file_quit_discards_only_when_told(make_window, qtbot):
    window = make_window()
    train_a_little(window, qtbot)
    window.sessions.confirm_unsaved = Recorder("cancel")
    window.sessions.quit_action.trigger()
    assert window.isVisible() and window.training_thread_running()
    window.sessions.confirm_unsaved = Recorder("discard")
    window.sessions.quit_action.trigger()
    assert not window.isVisible() and not window.training_thread_running()


def test_session_keys_work_whatever_has_the_focus(make_window, qtbot):
    window = make_window()
    s = window.sessions
    asked = []
    s.choose_save_path = lambda *args: asked.append("save as") or ""
    s.choose_open_path = lambda *args: asked.append("open") or ""
    window.activateWindow()
    plot = window.plots.grad             # a plot view, which would swallow keys of its own
    plot.setFocus()
    qtbot.keyClick(plot, Qt.Key_S, Qt.ControlModifier)
    qtbot.keyClick(plot, Qt.Key_O, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=5000)
    assert asked == ["save as", "open"]
    assert [a.text() for a in window.menuBar().actions()][0] == "&File"


def test_another_scenario_offers_to_save_unsaved_training_first(make_window, qtbot, tmp_path):
    window = make_window()
    window.confirm_discard = window._ask_discard          # the real question, not the fixture's
    picker = window.controls.scenario
    index = picker.findData("dead-relus")
    train_a_little(window, qtbot)
    asked = window.sessions.confirm_unsaved = Recorder("cancel")
    picker.activated.emit(index)
    snap = settle(window, qtbot)
    assert asked.calls == [("Loading “dead-relus”",)]
    assert window.scenario.name == "lecture-house-prices" and snap.epoch == 5
    assert picker.currentData() == "lecture-house-prices"
    # Save: the training goes to the file chosen then, and the new scenario loads.
    asked.answer = "save"
    window.sessions.choose_save_path = Recorder(str(tmp_path / "before.json"))
    picker.activated.emit(index)
    snap = settle(window, qtbot)
    assert window.scenario.name == "dead-relus" and snap.epoch == 0
    assert load_session(tmp_path / "before.json").trainer.epoch == 5
    # Training already saved is not lost: nothing is asked.
    train_a_little(window, qtbot)
    assert window.sessions.save_to(tmp_path / "dead.json")
    asked.calls.clear()
    picker.activated.emit(picker.findData("lecture-house-prices"))
    settle(window, qtbot)
    assert asked.calls == [] and window.scenario.name == "lecture-house-prices"
