"""Training history: the loss of every epoch and, at logged epochs, the diagnostics.

Memory stays bounded however long a class leaves the app running: a Series keeps every
point up to its capacity, then thins itself to every other point and from then on keeps
only every second (fourth, ...) epoch.  Up to a million epochs nothing is thinned.
"""
from __future__ import annotations

import numpy as np


class Series:
    def __init__(self, capacity: int = 1 << 20):
        self.capacity = capacity
        start = min(1024, capacity)
        self.epochs = np.empty(start, np.int64)
        self.values = np.empty(start, np.float64)
        self.n = 0
        self.stride = 1

    def append(self, epoch: int, value: float):
        if epoch % self.stride:
            return
        if self.n == self.epochs.size:
            if self.n >= self.capacity:
                self._thin()
                if epoch % self.stride:
                    return
            else:
                grown = min(self.n * 2, self.capacity)   # never more than the capacity
                self.epochs = np.resize(self.epochs, grown)
                self.values = np.resize(self.values, grown)
        self.epochs[self.n] = epoch
        self.values[self.n] = value
        self.n += 1

    def _thin(self):
        self.stride *= 2
        keep = (self.epochs[:self.n] % self.stride) == 0
        kept = int(keep.sum())
        self.epochs[:kept] = self.epochs[:self.n][keep]
        self.values[:kept] = self.values[:self.n][keep]
        self.n = kept

    def truncate(self, epoch: int):
        """Forget every point at or after `epoch` (used by step back)."""
        self.n = int(np.searchsorted(self.epochs[:self.n], epoch, side="left"))

    def arrays(self, start: int = 0):
        """Copies of (epochs, values) from position `start`."""
        return self.epochs[start:self.n].copy(), self.values[start:self.n].copy()

    def __len__(self):
        return self.n

    def last(self):
        return float(self.values[self.n - 1]) if self.n else float("nan")

    def to_dict(self):
        return {"stride": self.stride, "capacity": self.capacity,
                "epochs": self.epochs[:self.n].tolist(), "values": self.values[:self.n].tolist()}

    @classmethod
    def from_dict(cls, d):
        s = cls(int(d.get("capacity", 1 << 20)))
        epochs = np.asarray(d["epochs"], np.int64)
        values = np.asarray(d["values"], np.float64)
        s.epochs = np.resize(epochs, max(1024, epochs.size))
        s.values = np.resize(values, max(1024, values.size))
        s.n, s.stride = epochs.size, int(d["stride"])
        return s


LOG_FIELDS = ("loss", "test_loss", "grad_norm", "dead_fraction", "saturated_fraction", "update_ratio")


class History:
    def __init__(self):
        self.loss = Series()           # train loss per epoch
        self.log_epochs: list[int] = []
        self.logs: dict[str, list] = {k: [] for k in LOG_FIELDS}

    def log(self, epoch: int, **values):
        self.log_epochs.append(epoch)
        for k in LOG_FIELDS:
            self.logs[k].append(values[k])

    def truncate(self, epoch: int):
        self.loss.truncate(epoch)
        keep = int(np.searchsorted(np.asarray(self.log_epochs, np.int64), epoch, side="left"))
        del self.log_epochs[keep:]
        for k in LOG_FIELDS:
            del self.logs[k][keep:]

    def copy(self) -> "History":
        twin = History()
        twin.loss = Series.from_dict(self.loss.to_dict())
        twin.log_epochs = list(self.log_epochs)
        twin.logs = {k: list(v) for k, v in self.logs.items()}
        return twin

    def to_dict(self):
        return {"loss": self.loss.to_dict(), "log_epochs": list(self.log_epochs),
                "logs": {k: list(v) for k, v in self.logs.items()}}

    @classmethod
    def from_dict(cls, d):
        h = cls()
        h.loss = Series.from_dict(d["loss"])
        h.log_epochs = [int(e) for e in d["log_epochs"]]
        h.logs = {k: list(d["logs"][k]) for k in LOG_FIELDS}
        return h
