"""GuiPriority under re-entry: Qt may deliver an event to the GUI thread from inside the
priority's own bookkeeping (the garbage collector frees a QObject while an Event's lock is
held, and Qt sends its parent ChildRemoved at once).  That must nest, not deadlock."""
import threading

from gui.worker import GuiPriority


class _EventThatDeliversAnEvent(threading.Event):
    """An Event whose set() runs `nested` while holding its lock, as a collection inside
    set() would."""

    def __init__(self, nested):
        super().__init__()
        self.nested = nested

    def set(self):
        with self._cond:
            if self.nested is not None:
                self.nested()
            self._flag = True
            self._cond.notify_all()


def test_an_event_sent_while_the_gui_gives_way_nests_instead_of_deadlocking():
    priority = GuiPriority()
    nested_events = []

    def deliver_an_event():             # what Application.notify does for the nested event
        priority.gui_enter()
        nested_events.append(True)
        priority.gui_exit()

    priority._gui_idle = _EventThatDeliversAnEvent(None)
    priority._gui_idle.set()                # the GUI is idle, as it starts
    priority._gui_idle.nested = deliver_an_event

    def handle_an_event():
        priority.gui_enter()
        priority.gui_exit()             # set() → the nested event

    runner = threading.Thread(target=handle_an_event, daemon=True)
    runner.start()
    runner.join(timeout=5)
    assert not runner.is_alive(), "GuiPriority deadlocked on an event delivered inside gui_exit"
    assert nested_events == [True]
    assert priority._gui_idle.is_set() and priority._depth == 0


def test_cyclic_garbage_is_collected_on_the_gui_thread(qapp, qtbot):
    """Collected in the training or CSV thread, garbage holding Qt objects would be
    destroyed there (a deadlock with the GUI thread was seen): the app collects it on a
    timer in the GUI thread instead."""
    import gc
    assert not gc.isenabled()
    where, keep = [], []

    class Cycle:
        def __init__(self):
            self.me = self

        def __del__(self):
            where.append(threading.get_ident())

    def allocate_in_a_thread():
        Cycle()                             # unreachable at once: only the collector frees it
        keep.append([[] for _ in range(5000)])      # enough to trigger a collection here

    thread = threading.Thread(target=allocate_in_a_thread)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(where), timeout=5000)
    assert where == [threading.get_ident()]
