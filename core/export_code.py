"""Export the network as a standalone script: PyTorch in the style of the lecture's listing,
or plain numpy in the lecture's matrix style.  Either prints the loss per epoch, and the
losses equal the app's for the same epochs (float64, to rounding: ~1e-12 relative).

What "the same" means, exactly: the script goes on from where the app stands, as the app
would if it trained on.  It starts from the network's current weights (written with repr,
the shortest decimal that reads back to the same float64).  A network that has trained
also has state besides its weights, and the script restores it in one block headed
"Where the app stopped": the optimiser's (momentum buffers; Adam's step count and
moments), the shuffler's position and, in an epoch half done, that epoch's order, the
batches still to come and the loss of those done.  The data are embedded as the network
sees them (after the data set's transform); a data set too big to read or run as text
(more than EMBED_MAX_SAMPLES samples or EMBED_MAX_NUMBERS numbers) goes instead, float64
and exactly, into `<script stem>_data.npz` beside the script, which loads it from its own
folder.  Mini-batches come in the app's order: the script draws its permutations from
numpy's RandomState seeded as core/trainer.py seeds it, and draws the app's past
permutations again first, so even shuffled runs match batch for batch.  A network that
has not trained yet gets no "Where the app stopped" block.

Loss mapping (the engine's definitions, core/losses.py):
    half_sse              0.5 * MSELoss(reduction='sum')      (the lecture's E)
    sse                   MSELoss(reduction='sum')            (the lecture's PyTorch E)
    mse                   MSELoss()
    cross_entropy         CrossEntropyLoss on the logits: the softmax layer is left out
    binary_cross_entropy  BCEWithLogitsLoss on the logits: the final sigmoid is left out
"""
from __future__ import annotations

import base64
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_write, atomic_write_text
from .datasets import Dataset
from .errors import ExportError
from .network import _layer_views
from .numbering import layer_offsets, neuron_name
from .trainer import Trainer

# Up to this many samples, and numbers in x and y together, the data are written into the
# script: it stands alone and a reader sees them.  Beyond, the text is unreadable and big
# (a 1 000 000 × 20 set made a 340 MB script that ran out of memory parsing its literal),
# so the data go beside the script in a binary .npz.
EMBED_MAX_SAMPLES = 2_000
EMBED_MAX_NUMBERS = 50_000

FUSED = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
TORCH_MODULES = {"sigmoid": "torch.nn.Sigmoid()", "tanh": "torch.nn.Tanh()",
                 "relu": "torch.nn.ReLU()", "leaky_relu": "torch.nn.LeakyReLU(0.01)",
                 "softmax": "torch.nn.Softmax(dim=1)"}


def number(value) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ExportError(f"cannot export the non-finite value {value}")
    return repr(value)


def _row(values) -> str:
    return "[" + ", ".join(number(v) for v in values) + "]"


def _matrix(rows, indent: str, comments=None) -> str:
    lines = []
    for i, row in enumerate(rows):
        comment = f"  # {comments[i]}" if comments else ""
        lines.append(f"{indent}    {_row(row)},{comment}")
    return "[\n" + "\n".join(lines) + f"\n{indent}]"


def _w_range(first: int, last: int) -> str:
    """0-based positions as the lecture's names: w6..w10."""
    return f"w{first + 1}" if first == last else f"w{first + 1}..w{last + 1}"


def _w_list(indices) -> str:
    names = [f"w{k + 1}" for k in indices]
    return ", ".join(names) if len(names) <= 6 else f"{names[0]}, {names[1]}, …, {names[-1]}"


@dataclass
class _Run:
    """What a script needs to know, read once from the trainer.  `source`: where the data
    came from (core.session.DataSource), named in a script whose data are in a file."""
    trainer: Trainer
    dataset: Dataset | None
    epochs: int
    title: str
    filename: str = "script.py"
    source: object = None

    def __post_init__(self):
        t = self.trainer
        net = t.net
        if net.broken_sigmoid_derivative:
            raise ExportError("the sigmoid derivative is deliberately broken (the gradient-"
                              "check demonstration); switch it back before exporting")
        if self.epochs < 1:
            raise ExportError(f"the script needs at least one epoch, not {self.epochs}")
        self.sizes = list(net.sizes)
        self.acts = list(net.activation_names)
        self.loss = t.config.loss
        self.opt = t.config.optimizer
        batch = t.next_batch_size
        self.batch_size = None if not batch or batch >= t.n else int(batch)
        self.shuffle = bool(t.config.shuffle)
        self.seed = int(t.config.seed)
        self.weights, self.biases = _layer_views(net.params.astype(np.float64), self.sizes)
        self.x = t.X.astype(np.float64)
        self.y = t.Y.astype(np.float64)
        self.labels = None
        if self.loss == "cross_entropy" and np.all((self.y == 0) | (self.y == 1)) \
                and np.all(self.y.sum(axis=1) == 1):
            self.labels = self.y.argmax(axis=1)   # one-hot rows: class indices read better
        for name, a in (("weights", net.params), ("inputs", self.x), ("targets", self.y)):
            if not np.all(np.isfinite(a)):
                raise ExportError(f"the {name} hold NaN or infinity; nothing to export")
        embeds = t.n <= EMBED_MAX_SAMPLES and self.x.size + self.y.size <= EMBED_MAX_NUMBERS
        self.data_file = None if embeds else f"{Path(self.filename).stem}_data.npz"
        # Where the app stands: all zero for a network that has not trained yet.
        s = t.state()
        self.epoch, self.steps = int(s.epoch), int(s.optimizer["step_count"])
        self.app_steps = int(s.steps)                 # the app's; `steps` is the optimiser's
        self.done_batches = int(s.batch_in_epoch)
        self.epoch_batch_size = t.batch_size          # what the epoch in progress began with
        self.done_samples = self.done_batches * self.epoch_batch_size
        self.epoch_loss_so_far = float(s.epoch_loss_sum)
        self.optimizer_state = {k: np.asarray(v, np.float64) for k, v in s.optimizer.items()
                                if k in ("velocity", "exp_avg", "exp_avg_sq") and v is not None}
        self.permutations = self._permutations_drawn(s)
        self.resumed = bool(self.epoch or self.done_batches or self.steps or self.permutations)

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    @property
    def mid_epoch(self) -> bool:
        return self.done_batches > 0

    @property
    def loop_shuffles(self) -> bool:
        return self.batch_size is not None and self.shuffle

    @property
    def mid_epoch_shuffled(self) -> bool:
        # An epoch half done has more than one batch, so it was shuffled if shuffling is on.
        return self.mid_epoch and self.shuffle

    def _permutations_drawn(self, s) -> int:
        """How many permutations the app's shuffler has drawn (one per epoch of shuffled
        mini-batches begun): the script draws as many first, which brings its shuffler to
        the app's state without writing out 624 words of Mersenne Twister.  0 when the
        script draws none."""
        if not (self.loop_shuffles or self.mid_epoch_shuffled):
            return 0
        replay = np.random.RandomState(np.random.SeedSequence(self.seed).generate_state(4))
        drawn, last = 0, None
        # At most one permutation per epoch begun: epochs done, and the one in progress.
        while not _same_random_state(replay.get_state(), s.rng):
            if drawn > self.epoch:
                raise ExportError(f"the shuffler's state is not one that seed {self.seed} reaches "
                                  "by the app's permutations; cannot write a script that goes on "
                                  "with this run")
            last = replay.permutation(self.trainer.n)
            drawn += 1
        if self.mid_epoch_shuffled and (last is None or not np.array_equal(last, s.order)):
            raise ExportError("the order of the epoch in progress is not the shuffler's last "
                              "permutation; cannot write a script that goes on with this run")
        return drawn

    def header(self, kind: str, run_line: str) -> str:
        t, net = self.trainer, self.trainer.net
        o = self.opt
        opt = {"sgd": f"SGD, η = {o.lr!r}", "momentum": f"SGD with momentum {o.momentum!r}, η = {o.lr!r}",
               "adam": f"Adam, η = {o.lr!r}, β = ({o.beta1!r}, {o.beta2!r}), ε = {o.eps!r}"}[o.name]
        if o.l2:
            opt += f", L2 {o.l2!r}"
        if o.clip is not None:
            opt += f", gradients clipped to norm {o.clip!r}"
        batches = "full batch" if self.batch_size is None else (
            f"mini-batches of {self.batch_size}" + (", shuffled" if self.shuffle else ""))
        exported = f"Exported after {self.progress()} of training."
        lines = [
            f'"""{kind} of "{self.title}", exported from Backprop Lab.',
            "",
            f"Network {'-'.join(map(str, self.sizes))} ({', '.join(self.acts)}), loss {self.loss},",
            *([f"{opt}, {batches}.", exported] if self.mid_epoch else [f"{opt}, {batches}.  {exported}"]),
            "",
            "The weights below are the app's current weights, written exactly (each float64 as",
            *(["the shortest decimal that reads back to the same number), and the data are",
               "embedded as the network sees them."] if self.data_file is None else
              ["the shortest decimal that reads back to the same number); the data, as the",
               f"network sees them, are in {self.data_file}, which must stay beside this script."]),
        ]
        if self.resumed:
            lines += [
                "The block \"Where the app stopped\" restores what else the app keeps (the",
                "optimiser's state, the shuffler's position, an epoch half done), so this script",
                "goes on with the app's run: the losses printed here, numbered by the app's",
                "epochs, are the ones the app gets training on (to ~1e-12).",
            ]
        else:
            if self.data_file is None:
                lines[-1] += "  Training starts afresh from these weights"
            else:
                lines.append("Training starts afresh from these weights")
            lines += [
                "with a new optimiser, as Backprop Lab does with a network it is handed, so the",
                "losses printed here equal the app's for the same epochs (to ~1e-12).",
            ]
        if net.dtype != np.float64:
            lines += ["", f"The app trains this network in {net.dtype}; this script computes in",
                      "float64, so the losses agree only to float32 precision."]
        if t.X_test is not None:
            lines += ["", "The app's held-out test set is not part of this script."] if not self.data_file \
                else ["", f"{self.data_file} also holds the app's held-out test set (x_test, y_test),",
                      "unused here."]
        lines += ["", f"Run it with:  {run_line}", '"""']
        return "\n".join(lines)

    def data_comment(self) -> list[str]:
        ds = self.dataset
        if ds is None:
            return ["# The data, as the network sees it."]
        lines = [f"# The data ({ds.name}), as the network sees it."]
        if ds.x_mean is not None:
            lines.append("# Inputs standardised, x = (x* − mean) / std:")
            for name, m, s in zip(ds.feature_names, np.ravel(ds.x_mean), np.ravel(ds.x_std)):
                lines.append(f"#   {name}: mean {number(m)}, std {number(s)}")
        if ds.y_mean is not None:
            lines.append("# Target standardised, y = (y* − mean) / std:")
            for name, m, s in zip(ds.target_names, np.ravel(ds.y_mean), np.ravel(ds.y_std)):
                lines.append(f"#   {name}: mean {number(m)}, std {number(s)}")
        if self.labels is not None and ds.classes:
            held = "y holds class indices" if self.data_file is None else "y's one-hot columns are"
            lines.append(f"# {held} 0..{len(ds.classes) - 1} "
                         f"(classes {', '.join(map(str, ds.classes))}).")
        return lines

    def source_comment(self) -> list[str]:
        """Where the data in the file came from: a CSV file and how it was imported, or a
        scenario."""
        s = self.source
        kind = getattr(s, "kind", None)
        if kind == "csv":
            options = ", ".join(f"{k}={v!r}" for k, v in (s.csv_options or {}).items()
                                if v is not None and v != {} and v != [])
            lines = ["# Made from the CSV file", f"#   {s.csv_path}"]
            if s.csv_sha256:
                lines.append(f"#   (SHA-256 {s.csv_sha256} as read)")
            text = f"imported with {options}." if options else "imported with the default options."
            return lines + textwrap.wrap(text, 90, initial_indent="# ", subsequent_indent="#   ",
                                         break_long_words=False, break_on_hyphens=False)
        if kind == "scenario" and s.scenario:
            remedy = ", remedy applied" if s.remedy else ""
            return [f"# Made by Backprop Lab's scenario {s.scenario!r} (seed {s.seed}{remedy})."]
        return []

    def data_arrays(self) -> dict:
        """What the data file holds: the arrays the app trains (and tests) on, float64."""
        t = self.trainer
        arrays = {"x": self.x, "y": self.y}
        if t.X_test is not None:
            arrays.update(x_test=t.X_test.astype(np.float64), y_test=t.Y_test.astype(np.float64))
        return arrays

    def data_lines(self, torch_script: bool = False) -> list[str]:
        if self.data_file is not None:
            lines = self.data_comment()
            lines[1:1] = self.source_comment()
            return lines + [
                f"# {self.trainer.n:,} samples are too many to write out here: x and y (float64, exactly",
                f"# as the app has them) are in {self.data_file}, which must stay beside this script.",
                f"with np.load(Path(__file__).with_name({self.data_file!r}), allow_pickle=False) as data:",
                '    x, y = data["x"], data["y"]',
                *(["y = y.argmax(axis=1)   # one-hot rows → class indices, CrossEntropyLoss's targets"]
                  if torch_script and self.labels is not None else []),
                "N = len(x)"]
        lines = self.data_comment() + [f"x = np.array({_matrix(self.x, '')})"]
        if self.labels is not None:
            lines.append(f"y = np.array([{', '.join(str(int(c)) for c in self.labels)}])")
        else:
            lines.append(f"y = np.array({_matrix(self.y, '')})")
        lines.append("N = len(x)")
        return lines

    def numbering_comment(self, layer: int) -> str:
        sizes = self.sizes
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        base = layer_offsets(sizes)[layer]
        if fan_out == 1:
            below = neuron_name(sizes, layer, 0)
            if fan_in > 1:
                below += f"..{neuron_name(sizes, layer, fan_in - 1)}"
            parts = [f"bias w{base + 1}", f"from {below} {_w_range(base + 1, base + fan_in)}"]
        else:
            parts = [f"biases {_w_range(base, base + fan_out - 1)}"] + [
                f"from {neuron_name(sizes, layer, i)} "
                f"{_w_range(base + (i + 1) * fan_out, base + (i + 2) * fan_out - 1)}"
                for i in range(fan_in)]
            if fan_in > 4:
                parts = parts[:3] + ["…", parts[-1]]
        return f"# Layer {layer + 1}: " + ", ".join(parts) + "."

    def unit_comments(self, layer: int) -> list[str]:
        sizes = self.sizes
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        base = layer_offsets(sizes)[layer]
        return [f"into {neuron_name(sizes, layer + 1, j)}: "
                f"{_w_list([base + (i + 1) * fan_out + j for i in range(fan_in)])}"
                for j in range(fan_out)]

    def progress(self) -> str:
        done = f"{self.epoch} epoch{'' if self.epoch == 1 else 's'}"
        if not self.mid_epoch:
            return done
        return f"{done} and {self.done_batches} of the next epoch's {self.batches_in_epoch} batches"

    @property
    def batches_in_epoch(self) -> int:
        return -(-self.trainer.n // self.epoch_batch_size)

    @property
    def embeds_optimizer_state(self) -> bool:
        return self.resumed and self.opt.name != "sgd" and self.steps > 0

    def imports(self) -> list[str]:
        return ((["import base64"] if self.embeds_optimizer_state else [])
                + (["from pathlib import Path"] if self.data_file is not None else []))

    def shuffler_line(self) -> str:
        return f"shuffler = np.random.RandomState(np.random.SeedSequence({self.seed}).generate_state(4))"

    def batch_lines(self) -> list[str]:
        """The setup before the loop that makes the batches the app's."""
        if self.batch_size is None:
            return []
        if not self.shuffle:
            return ["# Mini-batches in the data's order (the app does not shuffle this run).",
                    f"batch_size = {self.batch_size}", ""]
        return [
            f"# Mini-batches of {self.batch_size}, in the app's order: Backprop Lab shuffles with",
            "# numpy's RandomState, seeded through a SeedSequence, one permutation per epoch;",
            "# drawing the same permutations here gives exactly the app's batches.",
            f"batch_size = {self.batch_size}",
            self.shuffler_line(),
            "",
        ]

    def order_line(self, torch_tensor: bool) -> str:
        if self.shuffle:
            perm = "shuffler.permutation(N)"
            return f"order = torch.from_numpy({perm})" if torch_tensor else f"order = {perm}"
        return "order = torch.arange(N)" if torch_tensor else "order = np.arange(N)"

    @property
    def mean_loss(self) -> bool:
        return self.loss not in ("half_sse", "sse")

    def epoch_accumulate(self) -> tuple[str, str]:
        """How batch losses add up to the epoch's loss, as the app adds them."""
        if self.mean_loss:
            return ("epoch_loss += loss_value * len(batch)   # mean losses: weighted by batch size",
                    "epoch_loss /= N")
        return "epoch_loss += loss_value                 # summed losses: add up", ""

    # -- where the app stopped -------------------------------------------------------------
    def state_lines(self, torch_script: bool) -> list[str]:
        """The block that restores the app's optimiser and shuffler (nothing before training)."""
        if not self.resumed:
            return []
        where = (f"in epoch {self.epoch}, after {self.done_batches} of its {self.batches_in_epoch} "
                 "batches" if self.mid_epoch else f"after {self.epoch} epochs")
        title = f"# ── Where the app stopped: {where} ({self.app_steps} steps) "
        lines = [title + "─" * max(3, 92 - len(title)),
                 "# What the app keeps besides the weights, restored so that this script goes on",
                 "# with the app's run rather than starting afresh from the weights above."]
        lines += self._optimizer_state(torch_script) + self._shuffler_state(torch_script)
        return lines + ["# ── End of the app's state " + "─" * 66, ""]

    def _optimizer_state(self, torch_script: bool) -> list[str]:
        name = self.opt.name
        if name == "sgd":
            return ["# Plain SGD keeps no state: the weights are all it needs."]
        if not self.embeds_optimizer_state:
            return ["# The optimiser has not taken a step since it was (re)started: it starts afresh."]
        decode = "app_tensors" if torch_script else "app_blocks"
        lines = ["# Per-weight vectors are stored exactly and compactly: float64, little-endian,",
                 "# base64, in the lecture's w-numbering (each layer's [b; W] block, row by row)."]
        if torch_script:
            lines += [
                "def app_tensors(text):",
                '    """A stored vector → one tensor per parameter, in model.parameters() order:',
                '    each Linear layer\'s weight (outputs × inputs, the transpose of W), then bias."""',
                "    flat = np.frombuffer(base64.b64decode(text), \"<f8\")",
                "    tensors, start = [], 0",
                "    for layer in model:",
                "        if isinstance(layer, torch.nn.Linear):",
                "            fan_out, fan_in = layer.weight.shape",
                "            block = flat[start:start + (fan_in + 1) * fan_out].reshape(fan_in + 1, fan_out)",
                "            tensors += [torch.tensor(block[1:].T).contiguous(), torch.tensor(block[0])]",
                "            start += block.size",
                "    return tensors", ""]
        else:
            lines += [
                "def app_blocks(text):",
                '    """A stored vector → arrays shaped like W1, W2, … (the [b; W] blocks)."""',
                "    flat = np.frombuffer(base64.b64decode(text), \"<f8\").copy()",
                "    ends = np.cumsum([W.size for W in weights])[:-1]",
                "    return [part.reshape(W.shape) for part, W in zip(np.split(flat, ends), weights)]",
                ""]
        state = self.optimizer_state
        if name == "momentum":
            if torch_script:
                return lines + [
                    "# Momentum: each parameter's velocity v (torch's momentum_buffer), v ← μ v + g.",
                    f"velocity = {decode}({_blob(state['velocity'])})",
                    "for p, v in zip(model.parameters(), velocity):",
                    '    optimizer.state[p]["momentum_buffer"] = v']
            return lines + [
                "# Momentum: the steps taken and each weight's velocity v, v ← μ v + g.",
                f"steps = {self.steps}",
                f"velocities = {decode}({_blob(state['velocity'])})"]
        if torch_script:
            return lines + [
                "# Adam: each parameter's moment estimates m (exp_avg) and v (exp_avg_sq), and",
                "# the steps taken t, which torch counts per parameter in a float tensor.",
                f"exp_avg = {decode}({_blob(state['exp_avg'])})",
                f"exp_avg_sq = {decode}({_blob(state['exp_avg_sq'])})",
                "for p, m, v in zip(model.parameters(), exp_avg, exp_avg_sq):",
                f'    optimizer.state[p] = {{"step": torch.tensor({float(self.steps)!r}), '
                '"exp_avg": m, "exp_avg_sq": v}']
        return lines + [
            "# Adam: the steps taken t and each weight's moment estimates m and v.",
            f"steps = {self.steps}",
            f"exp_avgs = {decode}({_blob(state['exp_avg'])})",
            f"exp_avg_sqs = {decode}({_blob(state['exp_avg_sq'])})"]

    def _shuffler_state(self, torch_script: bool) -> list[str]:
        if not self.permutations:
            return []
        lines = []
        if not self.loop_shuffles:
            lines += ["# The app's shuffler, seeded as the app seeds it (the epochs after this one",
                      "# train on the whole set in order, so only the epoch in progress needs it).",
                      self.shuffler_line()]
        k = self.permutations
        draw = "torch.from_numpy(shuffler.permutation(N))" if torch_script else "shuffler.permutation(N)"
        lines += [f"# The shuffler: the app has drawn {k} permutation{'s' if k > 1 else ''} of the samples, "
                  "one per epoch of",
                  "# shuffled mini-batches begun; drawing them again brings this one to the same place."]
        if self.mid_epoch_shuffled:
            lines += [f"# The last is the order of epoch {self.epoch}, the one in progress.",
                      f"for _ in range({k}):", f"    order = {draw}"]
        else:
            lines += [f"for _ in range({k}):", "    shuffler.permutation(N)"]
        return lines

    # -- the training loop -----------------------------------------------------------------
    def loop_lines(self, torch_script: bool, full_batch_body: list[str], batch_body) -> list[str]:
        """`epochs = …` and the loop; an epoch half done is finished first.  full_batch_body:
        one epoch's lines for full batch; batch_body(size): one batch's lines."""
        add, finish = self.epoch_accumulate()
        out = []
        if self.mid_epoch:
            out += [f"epochs = {self.epochs}    # counting epoch {self.epoch}, finished first", "losses = []"]
            out += self._finish_epoch_lines(torch_script, batch_body, finish)
            out.append(f"for t in range({self.epoch + 1}, {self.epoch} + epochs):")
        else:
            out += [f"epochs = {self.epochs}", "losses = []"]
            out.append(f"for t in range({self.epoch}, {self.epoch} + epochs):" if self.resumed
                       else "for t in range(epochs):")
        if self.batch_size is None:
            return out + _indent(full_batch_body, 1)
        out += [f"    {self.order_line(torch_script)}", "    epoch_loss = 0.0",
                "    for start in range(0, N, batch_size):"] + _indent(batch_body("batch_size"), 2)
        if finish:
            out.append(f"    {finish}")
        return out + ["    print(t, epoch_loss)", "    losses.append(epoch_loss)"]

    def _finish_epoch_lines(self, torch_script: bool, batch_body, finish: str) -> list[str]:
        so_far = "Σ loss × batch size" if self.mean_loss else "Σ loss"
        done = f"{self.done_batches} batch{'es' if self.done_batches > 1 else ''}"
        lines = [f"# First finish epoch {self.epoch}, which the app is in the middle of: its order from",
                 f"# sample {self.done_samples} on, the epoch's loss going on from the app's running "
                 f"sum for the {done}",
                 f"# it has done ({so_far}).",
                 f"t = {self.epoch}", f"epoch_loss = {number(self.epoch_loss_so_far)}"]
        if not self.shuffle:
            lines.append("order = torch.arange(N)" if torch_script else "order = np.arange(N)")
        size = "batch_size"
        if self.batch_size != self.epoch_batch_size:
            size = str(self.epoch_batch_size)
            later = "the whole set" if self.batch_size is None else f"batches of {self.batch_size}"
            lines.append(f"# This epoch began with batches of {size}; {later} from the next one on, "
                         "as in the app.")
        lines.append(f"for start in range({self.done_samples}, N, {size}):")
        lines += _indent(batch_body(size), 1)
        if finish:
            lines.append(finish)
        return lines + ["print(t, epoch_loss)", "losses.append(epoch_loss)",
                        "# Then whole epochs, as the app goes on."]


def _indent(lines, levels: int) -> list[str]:
    return [("    " * levels + line) if line else line for line in lines]


def _blob(values) -> str:
    """float64s, exactly and compactly: little-endian bytes in base64, 76 characters a line."""
    text = base64.b64encode(np.asarray(values, "<f8").tobytes()).decode("ascii")
    return '"""\n' + "\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + '\n"""'


def _same_random_state(a, b) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and tuple(a[2:]) == tuple(b[2:])


# -- PyTorch ---------------------------------------------------------------------------------
def pytorch_script(trainer: Trainer, epochs: int, dataset: Dataset | None = None,
                   title: str = "Backprop Lab network", filename: str = "script.py",
                   source=None) -> str:
    """The script's text; one whose data are too big to embed loads them from the data file
    that export_pytorch writes beside it."""
    return _pytorch(_Run(trainer, dataset, int(epochs), title, filename, source))


def _pytorch(r: _Run) -> str:
    L = r.n_layers
    modules, linear_index = [], []
    for l in range(L):
        linear_index.append(len(modules))
        modules.append(f"torch.nn.Linear({r.sizes[l]}, {r.sizes[l + 1]}),")
        act = r.acts[l]
        if act == "linear" or (l == L - 1 and FUSED.get(r.loss) == act):
            continue
        modules.append(f"{TORCH_MODULES[act]},")
    out = [r.header("A PyTorch script", f"python {r.filename}    (needs numpy and torch)"),
           *r.imports(), "import numpy as np", "import torch", "",
           "# The app computes in float64; so does this script.",
           "torch.set_default_dtype(torch.float64)", ""]
    out += r.data_lines(torch_script=True)
    out += ["x = torch.tensor(x)", "y = torch.tensor(y)", "", "# Construct the model."]
    if FUSED.get(r.loss):
        out.append(f"# The app's output layer is a {FUSED[r.loss]}; {_loss_class(r.loss)} applies it "
                   "itself (on the")
        out.append(f"# logits α), so the model ends at α.  Probabilities: "
                   + ("torch.softmax(model(x), dim=1)." if r.loss == "cross_entropy"
                      else "torch.sigmoid(model(x))."))
    out.append("model = torch.nn.Sequential(")
    out += [f"    {m}" for m in modules]
    out += [")", "",
            "# Start from the app's current weights.  torch keeps a layer's weights as an",
            "# (outputs × inputs) matrix, the transpose of the app's W: row j holds the weights",
            "# into unit j.  The comments give the lecture's w-numbers.",
            "with torch.no_grad():"]
    for l in range(L):
        i = linear_index[l]
        out.append(f"    {r.numbering_comment(l)}")
        out.append(f"    model[{i}].bias.copy_(torch.tensor({_row(r.biases[l])}))")
        out.append(f"    model[{i}].weight.copy_(torch.tensor("
                   f"{_matrix(r.weights[l].T, '    ', r.unit_comments(l))}))")
    out += [""] + _torch_loss(r.loss) + [""] + _torch_optimizer(r.opt) + [""]
    out += r.batch_lines() + r.state_lines(torch_script=True)
    step = ["# Zero the gradients before running the backward pass.",
            "optimizer.zero_grad()",
            "# Backward pass.",
            "loss.backward()"]
    if r.opt.clip is not None:
        step += ["# Clip the gradients' total norm, as the app does before each step.",
                 f"torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm={number(r.opt.clip)})"]
    step += ["# Update the weights.", "optimizer.step()"]
    full_batch = ["# Forward pass.", "y_pred = model(x)",
                  "# Compute loss.", "loss = loss_fn(y_pred, y)",
                  "print(t, loss.item())", "losses.append(loss.item())"] + step

    def batch(size):
        return [f"batch = order[start:start + {size}]",
                "# Forward pass.", "y_pred = model(x[batch])",
                "# Compute loss.", "loss = loss_fn(y_pred, y[batch])",
                "loss_value = loss.item()", r.epoch_accumulate()[0]] + step

    out += r.loop_lines(True, full_batch, batch)
    return "\n".join(out) + "\n"


def _loss_class(loss: str) -> str:
    return {"cross_entropy": "CrossEntropyLoss", "binary_cross_entropy": "BCEWithLogitsLoss"}[loss]


def _torch_loss(loss: str) -> list[str]:
    if loss == "half_sse":
        return ["# The loss: the lecture's E = ½ Σ (y_pred − y)².",
                "mse = torch.nn.MSELoss(reduction='sum')", "",
                "def loss_fn(y_pred, y):", "    return 0.5 * mse(y_pred, y)"]
    return {
        "sse": ["# The loss: E = Σ (y_pred − y)², as in the lecture's PyTorch listing.",
                "loss_fn = torch.nn.MSELoss(reduction='sum')"],
        "mse": ["# The loss: the mean of (y_pred − y)² over every output of every sample.",
                "loss_fn = torch.nn.MSELoss()"],
        "cross_entropy": ["# The loss: cross-entropy of softmax(α), averaged over the samples.",
                          "loss_fn = torch.nn.CrossEntropyLoss()"],
        "binary_cross_entropy": ["# The loss: binary cross-entropy of sigmoid(α), averaged.",
                                 "loss_fn = torch.nn.BCEWithLogitsLoss()"],
    }[loss]


def _torch_optimizer(o) -> list[str]:
    args = [f"lr={number(o.lr)}"]
    if o.name == "adam":
        args += [f"betas=({number(o.beta1)}, {number(o.beta2)})", f"eps={number(o.eps)}"]
    elif o.name == "momentum":
        args.append(f"momentum={number(o.momentum)}")
    lines = ["# The optimiser."]
    if o.l2:
        args.append(f"weight_decay={number(o.l2)}")
        lines.append("# weight_decay adds l2·w to every gradient: the app's L2.")
    cls = "torch.optim.Adam" if o.name == "adam" else "torch.optim.SGD"
    return lines + [f"optimizer = {cls}(model.parameters(), {', '.join(args)})"]


# -- numpy -----------------------------------------------------------------------------------
NUMPY_ACTIVATIONS = {
    "sigmoid": "sigmoid = lambda a: 1 / (1 + np.exp(-a))",
    "tanh": "tanh = np.tanh",
    "relu": "relu = lambda a: np.maximum(a, 0)",
    "leaky_relu": "leaky_relu = lambda a: np.maximum(a, 0.01 * a)",
    "softmax": ("def softmax(a):\n    e = np.exp(a - a.max(axis=1, keepdims=True))\n"
                "    return e / e.sum(axis=1, keepdims=True)"),
}


def _derivative(act: str, k: int) -> str:
    """δ_k from dE_dbeta (∂E/∂β_k): the chain rule through the activation."""
    b, a = f"beta_{k}", f"alpha_{k}"
    return {
        "sigmoid": f"dE_dbeta * {b} * (1 - {b})",
        "tanh": f"dE_dbeta * (1 - {b} ** 2)",
        "relu": f"dE_dbeta * ({a} > 0)",
        "leaky_relu": f"dE_dbeta * np.where({a} > 0, 1.0, 0.01)",
        "linear": "dE_dbeta",
        "softmax": f"{b} * (dE_dbeta - np.sum(dE_dbeta * {b}, axis=1, keepdims=True))",
    }[act]


def _numpy_loss(loss: str, k: int) -> tuple[list[str], bool]:
    """Lines computing `loss` and starting the backward pass: δ_out itself for the fused
    losses (second item True), else ∂E/∂β_out."""
    b, a = f"beta_{k}", f"alpha_{k}"
    if loss == "cross_entropy":
        return ([f"    # The loss: cross-entropy, E = −(1/N) Σ y log softmax(α), from α directly.",
                 f"    shifted = {a} - {a}.max(axis=1, keepdims=True)",
                 "    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                 "    loss = -np.sum(y * log_probabilities) / len(y)",
                 "    # Backward pass.  Softmax and cross-entropy together: δ = (β − y) / N.",
                 f"    delta_{k} = ({b} - y) / len(y)"], True)
    if loss == "binary_cross_entropy":
        return ([f"    # The loss: binary cross-entropy, mean of softplus(α) − yα (stable form).",
                 f"    loss = np.mean(np.logaddexp(0, {a}) - y * {a})",
                 "    # Backward pass.  Sigmoid and binary cross-entropy together: δ = (β − y) / size.",
                 f"    delta_{k} = ({b} - y) / y.size"], True)
    value, grad = {
        "half_sse": (f"0.5 * np.sum(({b} - y) ** 2)", f"{b} - y"),
        "sse": (f"np.sum(({b} - y) ** 2)", f"2 * ({b} - y)"),
        "mse": (f"np.mean(({b} - y) ** 2)", f"2 * ({b} - y) / y.size"),
    }[loss]
    title = {"half_sse": "the lecture's E = ½ Σ (β − y)²", "sse": "E = Σ (β − y)²",
             "mse": "E = mean of (β − y)²"}[loss]
    return [f"    # The loss: {title}.", f"    loss = {value}",
            "    # Backward pass: δ = ∂E/∂α, from the output layer down.",
            f"    dE_dbeta = {grad}"], False


def numpy_script(trainer: Trainer, epochs: int, dataset: Dataset | None = None,
                 title: str = "Backprop Lab network", filename: str = "script.py",
                 source=None) -> str:
    """The script's text; one whose data are too big to embed loads them from the data file
    that export_numpy writes beside it."""
    return _numpy(_Run(trainer, dataset, int(epochs), title, filename, source))


def _numpy(r: _Run) -> str:
    L = r.n_layers
    out = [r.header("A numpy script", f"python {r.filename}    (needs numpy)"),
           *r.imports(), "import numpy as np", "",
           "# e^−α overflows to inf for α < −709; 1 / (1 + inf) = 0 is still the right sigmoid.",
           "np.seterr(over='ignore')", ""]
    out += r.data_lines()
    if r.labels is not None and r.data_file is None:
        out.append(f"y = np.eye({r.sizes[-1]})[y]   # class indices → one-hot rows")
    out.append("")
    used = sorted({a for a in r.acts if a in NUMPY_ACTIVATIONS}, key=list(NUMPY_ACTIVATIONS).index)
    if used:
        out += ["# The activation functions."] + [NUMPY_ACTIVATIONS[a] for a in used] + [""]
    out += ["# The weights, as the lecture writes them: one matrix per layer, biases in the",
            "# first row and the weights from each unit below in the next rows ([b; W]), so",
            "# that np.hstack([ones, inputs]) @ W is the net input α.  These are the app's",
            "# current weights; the comments give the lecture's w-numbers."]
    for l in range(L):
        sizes, base = r.sizes, layer_offsets(r.sizes)[l]
        fan_out = sizes[l + 1]
        rows = [r.biases[l]] + list(r.weights[l])
        comments = [f"{'bias' if fan_out == 1 else 'biases'} ({_w_list(range(base, base + fan_out))})"] + [
            f"from {neuron_name(sizes, l, i)} "
            f"({_w_list(range(base + (i + 1) * fan_out, base + (i + 2) * fan_out))})"
            for i in range(sizes[l])]
        out.append(r.numbering_comment(l))
        out.append(f"W{l + 1} = np.array({_matrix(rows, '', comments)})")
    out += [f"weights = [{', '.join(f'W{l + 1}' for l in range(L))}]", ""]
    out += ["", "def loss_and_gradients(x, y):",
            '    """Forward pass, the loss E, and backpropagation: δ = ∂E/∂α layer by layer."""',
            "    ones = np.ones((len(x), 1))", "    # Forward pass."]
    for l in range(L):
        k = l + 1
        below = "x" if l == 0 else f"beta_{l}"
        out += [f"    inputs_{k} = np.hstack([ones, {below}])", f"    alpha_{k} = inputs_{k} @ W{k}"]
        act = r.acts[l]
        out.append(f"    beta_{k} = {'alpha_' + str(k) if act == 'linear' else f'{act}(alpha_{k})'}")
    loss_lines, fused = _numpy_loss(r.loss, L)
    out += loss_lines
    if not fused:
        out.append(f"    delta_{L} = {_derivative(r.acts[-1], L)}")
    for k in range(L - 1, 0, -1):
        out.append(f"    dE_dbeta = delta_{k + 1} @ W{k + 1}[1:].T")
        out.append(f"    delta_{k} = {_derivative(r.acts[k - 1], k)}")
    out += ["    # ∂E/∂W = inputsᵀ δ; its first row, ∂E/∂b, sums δ over the samples.",
            f"    return float(loss), [{', '.join(f'inputs_{k}.T @ delta_{k}' for k in range(1, L + 1))}]",
            "", ""]
    out += _numpy_optimizer(r.opt) + ["", ""]
    out += r.batch_lines() + r.state_lines(torch_script=False)
    full_batch = ["loss, grads = loss_and_gradients(x, y)", "print(t, loss)",
                  "losses.append(loss)", "step(grads)"]

    def batch(size):
        return [f"batch = order[start:start + {size}]",
                "loss_value, grads = loss_and_gradients(x[batch], y[batch])",
                r.epoch_accumulate()[0], "step(grads)"]

    out += r.loop_lines(False, full_batch, batch)
    return "\n".join(out) + "\n"


def _numpy_optimizer(o) -> list[str]:
    """The update, in the order of operations of core/optimizers.py (and torch.optim)."""
    lines = [f"learning_rate = {number(o.lr)}"]
    if o.name == "momentum":
        lines += [f"momentum = {number(o.momentum)}", "velocities = [np.zeros_like(W) for W in weights]"]
    if o.name == "adam":
        lines += [f"beta1, beta2, eps = {number(o.beta1)}, {number(o.beta2)}, {number(o.eps)}",
                  "exp_avgs = [np.zeros_like(W) for W in weights]",
                  "exp_avg_sqs = [np.zeros_like(W) for W in weights]"]
    if o.l2:
        lines.append(f"l2 = {number(o.l2)}")
    if o.clip is not None:
        lines.append(f"max_norm = {number(o.clip)}")
    lines += ["", ""] if o.name == "sgd" else ["steps = 0", "", ""]
    lines.append("def step(grads):")
    if o.name != "sgd":
        lines += ["    global steps", "    steps += 1"]
    if o.clip is not None:
        lines += ["    # Clip the gradients' total norm (torch.nn.utils.clip_grad_norm_).",
                  "    norm = np.sqrt(sum(np.sum(g * g) for g in grads))",
                  "    if max_norm / (norm + 1e-6) < 1:",
                  "        grads = [g * (max_norm / (norm + 1e-6)) for g in grads]"]
    if o.l2:
        lines += ["    # L2: every parameter's gradient gains l2·w (torch's weight_decay).",
                  "    grads = [g + W * l2 for g, W in zip(grads, weights)]"]
    if o.name == "sgd":
        lines += ["    for W, g in zip(weights, grads):", "        W -= learning_rate * g"]
    elif o.name == "momentum":
        lines += ["    for W, g, v in zip(weights, grads, velocities):",
                  "        # The velocity starts as the first gradient, then v ← μ v + g.",
                  "        v[...] = g if steps == 1 else v * momentum + g",
                  "        W -= learning_rate * v"]
    else:
        lines += ["    for W, g, m, v in zip(weights, grads, exp_avgs, exp_avg_sqs):",
                  "        m += (g - m) * (1 - beta1)",
                  "        v *= beta2",
                  "        v += (1 - beta2) * (g * g)",
                  "        denominator = np.sqrt(v) / np.sqrt(1 - beta2 ** steps) + eps",
                  "        W -= (m / denominator) * (learning_rate / (1 - beta1 ** steps))"]
    return lines


# -- writing ---------------------------------------------------------------------------------
def export_pytorch(path, trainer: Trainer, epochs: int, dataset: Dataset | None = None,
                   title: str = "Backprop Lab network", source=None) -> Path | None:
    """Write the PyTorch script to `path`; returns the data file written beside it, or None
    when the data are embedded.  `source`: where the data came from (a DataSource)."""
    return _write(path, _pytorch, trainer, epochs, dataset, title, source)


def export_numpy(path, trainer: Trainer, epochs: int, dataset: Dataset | None = None,
                 title: str = "Backprop Lab network", source=None) -> Path | None:
    """Write the numpy script to `path`; returns the data file written beside it, or None
    when the data are embedded.  `source`: where the data came from (a DataSource)."""
    return _write(path, _numpy, trainer, epochs, dataset, title, source)


def _write(path, make, trainer, epochs, dataset, title, source) -> Path | None:
    """The data file first, then the script: a script is never left without its data.  If
    the data file cannot be written, the SaveError names it and no script is written; if
    the script cannot, a data file this export created is removed again."""
    path = Path(path)
    r = _Run(trainer, dataset, int(epochs), title, path.name, source)
    text = make(r)
    if r.data_file is None:
        atomic_write_text(path, text)
        return None
    data_path = path.with_name(r.data_file)
    existed = data_path.exists()
    atomic_write(data_path, lambda f: np.savez(f, **r.data_arrays()), binary=True)
    try:
        atomic_write_text(path, text)
    except BaseException:
        if not existed:
            data_path.unlink(missing_ok=True)
        raise
    return data_path
