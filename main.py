"""Backprop Lab: `python main.py` opens the window; `--headless` trains without Qt.

Every bad argument or file ends in one line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from core.csv_format import counted
from core.errors import BackpropLabError


DEFAULT_TEST_FRACTION = 0.2


class UsageError(BackpropLabError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):          # one line, not argparse's usage block
        raise UsageError(message)


def whole_number(minimum: int, requirement: str, maximum: int | None = None):
    """An argparse type: a whole number in [minimum, maximum], refused in one line otherwise."""
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"{text!r} {requirement}")
        return value
    return convert


positive_int = whole_number(1, "must be at least 1")
nonnegative_int = whole_number(0, "must not be negative")
seed_int = whole_number(0, "must be a whole number from 0 to 4294967295 (2³² − 1)", 2 ** 32 - 1)


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive, finite number")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="main.py", description="Backprop Lab: backpropagation made visible.")
    p.add_argument("--headless", action="store_true", help="train without opening a window")
    p.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")
    p.add_argument("--scenario", metavar="NAME", help="scenario to load (default lecture-house-prices)")
    p.add_argument("--epochs", type=nonnegative_int, metavar="N", help="epochs to train")
    p.add_argument("--seed", type=seed_int, metavar="S", help="random seed (weights, batch order)")
    p.add_argument("--lr", type=positive_float, metavar="X", help="learning rate η")
    p.add_argument("--remedy", action="store_true", help="apply the scenario's remedy")
    p.add_argument("--log-every", type=positive_int, metavar="K", help="log every K epochs")
    p.add_argument("--json", metavar="PATH", help="write the run as JSON")
    p.add_argument("--quiet", action="store_true", help="print no per-epoch lines")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window to a PNG and exit")
    data = p.add_argument_group("your own data (CSV)")
    data.add_argument("--data", metavar="FILE.csv", help="train on a CSV file")
    data.add_argument("--target", metavar="COL", help="the column to predict")
    data.add_argument("--features", metavar="A,B,...", help="feature columns (default: all others)")
    data.add_argument("--hidden", metavar="N,N,...", help="hidden layer sizes for --data (default 8)")
    data.add_argument("--missing", choices=("drop", "fill"),
                      help="incomplete rows: drop them (default) or fill with mean / most frequent")
    data.add_argument("--no-standardise", action="store_true", help="train on raw values")
    data.add_argument("--test-fraction", type=float, metavar="F",
                      help=f"held-out fraction (default {DEFAULT_TEST_FRACTION})")
    lecture = p.add_argument_group("lecture mode")
    lecture.add_argument("--explain", metavar="wK", help="print the chain rule for parameter wK")
    lecture.add_argument("--sample", type=nonnegative_int, metavar="I",
                         help="sample i = 1..N for --explain, counted as the lecture counts "
                              "(default: summed over the batch)")
    lecture.add_argument("--lr-range-test", action="store_true",
                         help="sweep the learning rate 1e-6 → 10 and suggest one")
    files = p.add_argument_group("sessions and exports")
    files.add_argument("--save-session", metavar="S.json", help="save the session after training")
    files.add_argument("--load-session", metavar="S.json", help="continue a saved session")
    files.add_argument("--embedded-data", action="store_true",
                       help="with --load-session: train on the session's own copy of the data "
                            "even if its CSV file has changed since")
    files.add_argument("--export-pytorch", metavar="OUT.py", help="write a runnable PyTorch script")
    files.add_argument("--export-numpy", metavar="OUT.py", help="write a runnable numpy script")
    files.add_argument("--export-figures", metavar="DIR", help="write the graph and plots as PNG/SVG")
    return p


def list_scenarios() -> int:
    from core.scenarios import load_scenario, scenario_names
    for name in scenario_names():
        print(f"{name:24s} {load_scenario(name).title}")
    return 0


class Setup:
    """What a headless run trains: from a scenario, a CSV file or a saved session."""

    def __init__(self, name, title, trainer, epochs, scenario=None, dataset=None):
        self.name, self.title, self.trainer, self.epochs = name, title, trainer, epochs
        self.scenario, self.dataset = scenario, dataset


def check_data_flags(args):
    """Flags that mean nothing without another are refused, not ignored: the CSV flags
    without --data (and a CSV run has no scenario), --sample without --explain,
    --embedded-data without --load-session."""
    if args.embedded_data and not args.load_session:
        raise UsageError("--embedded-data belongs to --load-session S.json")
    if args.scenario is not None and not args.scenario.strip():
        raise UsageError("--scenario needs a name (see --list-scenarios)")
    if args.sample is not None and not args.explain:
        raise UsageError("--sample chooses the sample for --explain wK; give --explain too")
    if args.data:
        for flag, given in (("--scenario", args.scenario), ("--remedy", args.remedy)):
            if given:
                raise UsageError(f"--data trains on a CSV file; it cannot be combined with {flag}")
        return
    for flag, given in (("--target", args.target), ("--features", args.features),
                        ("--hidden", args.hidden), ("--no-standardise", args.no_standardise),
                        ("--test-fraction", args.test_fraction is not None),
                        ("--missing", args.missing is not None)):
        if given:
            raise UsageError(f"{flag} describes a CSV file: it needs --data FILE.csv")


def setup_from_scenario(args) -> Setup:
    from core.headless import default_log_every
    from core.scenarios import load_scenario
    sc = load_scenario(args.scenario or "lecture-house-prices", seed=args.seed, remedy=args.remedy)
    if args.lr is not None:
        sc.config.optimizer.lr = args.lr
    epochs = sc.epochs if args.epochs is None else args.epochs
    trainer = sc.make_trainer(log_every=args.log_every or default_log_every(epochs))
    return Setup(sc.name, sc.title + (" (remedy applied)" if sc.remedy_applied else ""),
                 trainer, epochs, scenario=sc, dataset=sc.dataset)


def setup_from_csv(args) -> Setup:
    """Train on a CSV file with the columns given, or the ones the import dialog would
    propose (the last usable column as target; identifiers, text and constants ignored).
    The input and output layers follow from the data; --hidden sets the rest."""
    from core.csv_dataset import build_dataset, default_options, make_csv_setup, resolve_column
    from core.csv_import import read_csv_table
    from core.headless import default_log_every
    fraction = DEFAULT_TEST_FRACTION if args.test_fraction is None else args.test_fraction
    if not 0 <= fraction < 1:
        raise UsageError(f"--test-fraction must be at least 0 and below 1, not {fraction:g}")
    try:
        hidden = [int(h) for h in ("8" if args.hidden is None else args.hidden).split(",") if h.strip()]
    except ValueError:
        raise UsageError(f"--hidden: {args.hidden!r} is not a list of whole numbers like 8,8") from None
    if any(h < 1 for h in hidden):
        raise UsageError(f"--hidden: layer sizes must be at least 1, not {args.hidden!r}")
    table = read_csv_table(args.data)
    options = default_options(table)
    if args.target:
        options.target = resolve_column(table, args.target)
    elif options.target:
        print(f"main.py: note: no --target given: predicting '{options.target}'", file=sys.stderr)
    options.features = ([resolve_column(table, f) for f in args.features.split(",") if f.strip()]
                        if args.features else None)
    options.missing, options.standardise = args.missing or "drop", not args.no_standardise
    options.test_fraction, options.seed = fraction, args.seed or 0
    dataset, notes = build_dataset(table, options)
    for note in notes:
        print(f"main.py: note: {note}", file=sys.stderr)
    sc = make_csv_setup(dataset, hidden=hidden, seed=options.seed, epochs=args.epochs,
                        **({} if args.lr is None else {"lr": args.lr}))
    trainer = sc.make_trainer(log_every=args.log_every or default_log_every(sc.epochs))
    setup = Setup(sc.name, sc.title, trainer, sc.epochs, dataset=dataset)
    setup.csv_scenario, setup.csv_options, setup.notes = sc, options, notes   # for the window
    setup.csv_sha256 = table.sha256     # taken as it was read: the file may change meanwhile
    return setup


def setup_from_session(args) -> Setup:
    """Continue a saved session exactly.  Without --epochs it trains 0 epochs: it is
    loaded, reported and (with the export flags) exported or re-saved as it stands.
    --lr and --log-every change the loaded settings; what made the run cannot change."""
    from core.session import CsvChangedError, load_session
    for flag, given in (("--scenario", args.scenario), ("--data", args.data),
                        ("--seed", args.seed is not None), ("--remedy", args.remedy)):
        if given:
            raise UsageError(f"--load-session continues a saved run; it cannot be combined with {flag}")
    try:
        session = load_session(args.load_session, check_csv=not args.embedded_data)
    except CsvChangedError as e:
        raise CsvChangedError(f"{e} (--embedded-data)") from None
    for warning in session.warnings:
        print(f"main.py: note: {warning}", file=sys.stderr)
    trainer = session.trainer
    if args.lr is not None:
        trainer.set_learning_rate(args.lr)
    if args.log_every:
        trainer.log_every = args.log_every
    setup = Setup(session.name, session.title, trainer, args.epochs or 0, dataset=session.dataset)
    setup.session = session   # its source and view go into a re-saved session
    return setup


def explain(args, setup: Setup) -> int:
    """Print the chain rule for --explain (wK, or a neuron's δ: H1, O1) on the training
    set: at the starting weights, or after --epochs N of training."""
    from core.explain import explain as explain_chain
    from core.explain import parse_target
    trainer = setup.trainer
    parse_target(trainer.net.sizes, args.explain)      # a bad name fails before training
    # The lecture's i counts from 1 (so do the window's sample boxes); core counts from 0.
    if args.sample is not None and not 1 <= args.sample <= trainer.n:
        raise UsageError(f"--sample {args.sample}: the samples are numbered 1..{trainer.n}, "
                         "as the lecture's i")
    sample = None if args.sample is None else args.sample - 1
    epochs = args.epochs or 0
    if epochs:
        trainer.run_epochs(epochs)
    where = (f"after {counted(trainer.epoch, 'epoch')} of training" if epochs else
             "at the starting weights" if trainer.epoch == 0 else f"at epoch {trainer.epoch}")
    explanation = explain_chain(trainer.net, trainer.X, trainer.Y, trainer.loss_fn,
                                args.explain, sample)
    print(f"{setup.title}: {where}, on the {trainer.n} training samples")
    if trainer.diverged:
        print(f"(training diverged at epoch {trainer.diverged_epoch}: {trainer.diverged_reason}; "
              "these are the last finite weights)")
    print(explanation.to_text(digits=6))
    return 0


def lr_range_test(args, setup: Setup) -> int:
    """Sweep η from 1e-6 to 10 from the current weights (the initial ones, or those after
    --epochs N), print the curve and the suggested rate; the run itself is left untouched."""
    from core.headless import finite_or_none, write_json
    from core.lr_range import lr_range_test as sweep_learning_rates, report
    trainer = setup.trainer
    if args.epochs:
        trainer.run_epochs(args.epochs)
    result = sweep_learning_rates(trainer)
    print(f"{setup.title}\nlearning-rate range test at epoch {trainer.epoch}: network "
          f"{trainer.net.describe()}, loss {trainer.loss_fn.name}, batch size {trainer.batch_size}")
    print(report(result))
    if args.json:
        write_json(args.json, finite_or_none({"scenario": setup.name, "epoch": trainer.epoch,
                                              "lr_range_test": result.to_dict()}))
    return 0


def data_source(args, setup: Setup):
    """Where the run's data came from, for a saved session and the figures' window."""
    from core.session import DataSource
    session = getattr(setup, "session", None)
    if session is not None:
        return session.source
    if setup.scenario is not None:
        return DataSource.from_scenario(setup.scenario)
    if args.data:
        options = {"target": args.target, "features": args.features, "missing": args.missing or "drop",
                   "standardise": not args.no_standardise,
                   "test_fraction": DEFAULT_TEST_FRACTION if args.test_fraction is None else args.test_fraction}
        return DataSource.from_csv(setup.dataset, args.data, options, setup.csv_sha256)
    return DataSource(setup.dataset)


def save_and_export(args, setup: Setup):
    """After training: --save-session, then the code exports, then the figures.  An
    exported script trains the run's --epochs (100 if none) more, going on from where the
    run stands (weights, optimiser state, shuffler)."""
    from core.export_code import export_numpy, export_pytorch
    from core.session import save_session
    trainer = setup.trainer
    session = getattr(setup, "session", None)
    view = session.view if session is not None else None
    if args.save_session:
        save_session(args.save_session, trainer, data_source(args, setup), view, name=setup.name,
                     title=setup.title)
    script_epochs = setup.epochs or 100
    for script, export in ((args.export_pytorch, export_pytorch), (args.export_numpy, export_numpy)):
        if script:
            data = export(script, trainer, script_epochs, setup.dataset, setup.title, data_source(args, setup))
            if data is not None:    # too big to embed: the script loads it from beside itself
                print(f"{script}: the data are in {data} beside it (too many to embed)")
    if args.export_figures:
        # Last: the window's training thread takes the trainer over.
        from gui.figure_export import export_figures
        written = export_figures(args.export_figures, trainer, setup.dataset, setup.name, setup.title,
                                 data_source(args, setup), view)
        print(f"figures: {', '.join(p.name for p in written)} in {args.export_figures}")


def check_output_folder(path: str, flag: str):
    """Refuse a folder for output files that cannot be made or written, before training."""
    target = os.path.abspath(path)
    if os.path.exists(target) and not os.path.isdir(target):
        raise UsageError(f"{flag} {path}: is a file, not a folder")
    existing = target
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK):
        raise UsageError(f"{flag} {path}: the folder {existing} is not writable")


def run_headless(args) -> int:
    from core.headless import check_output_path, finite_or_none, train_and_report, write_json
    from core.metrics import measure
    for flag in ("json", "save_session", "export_pytorch", "export_numpy"):
        if getattr(args, flag):
            check_output_path(getattr(args, flag), "--" + flag.replace("_", "-"))
    if args.export_figures:
        check_output_folder(args.export_figures, "--export-figures")
    check_data_flags(args)
    if args.load_session:
        setup = setup_from_session(args)
    elif args.data:
        setup = setup_from_csv(args)
    else:
        setup = setup_from_scenario(args)
    if args.explain:
        return explain(args, setup)
    if args.lr_range_test:
        return lr_range_test(args, setup)
    trainer = setup.trainer
    net, opt = trainer.net, trainer.config.optimizer
    print(f"{setup.title}\nnetwork {net.describe()}, loss {trainer.loss_fn.name}, "
          f"η = {opt.lr:g}, {counted(setup.epochs, 'epoch')}")
    record = train_and_report(trainer, setup.epochs, setup.name, quiet=args.quiet)
    record.update(seed=net.seed, remedy=bool(setup.scenario and setup.scenario.remedy_applied))
    print(f"final loss {record['final_loss']}  ({counted(record['epochs_run'], 'epoch')}, "
          f"{record['epochs_per_second'] or 0:.0f} epochs/s)")
    if setup.dataset.task == "classification":
        from core.csv_dataset import accuracy_summary
        print(accuracy_summary(net, setup.dataset))
    session = getattr(setup, "session", None)
    scenario_name = (setup.scenario.name if setup.scenario is not None else      # (a session
                     session.source.scenario if session is not None else None)   # goes on too)
    metric = measure(scenario_name, trainer) if scenario_name else None
    if metric is not None:          # a failure scenario: did it fail, did the remedy fix it?
        print(f"{metric.verdict}: {metric.sentence}")
        record["metric"] = finite_or_none(metric.to_dict())
    if args.json:
        write_json(args.json, record)
    save_and_export(args, setup)
    return 0


# What only a headless run does, and where the window has it instead.
HEADLESS_ONLY = {
    "json": "", "quiet": "", "log_every": "",
    "explain": " (in the window: Lecture mode)", "sample": " (in the window: Lecture mode)",
    "lr_range_test": " (in the window: the η range test button)",
    "save_session": " (in the window: File → Save)",
    "export_pytorch": " (in the window: File → Export)",
    "export_numpy": " (in the window: File → Export)",
    "export_figures": " (in the window: File → Export; --screenshot OUT.png renders it)",
}


def run_gui(args) -> int:
    """The window, on a scenario, a CSV file (--data) or a saved session (--load-session);
    bad arguments and unreadable files are refused here, before a window opens."""
    for dest, hint in HEADLESS_ONLY.items():
        if getattr(args, dest) not in (None, False):
            raise UsageError(f"--{dest.replace('_', '-')} works with --headless{hint}")
    check_data_flags(args)
    setup = None
    if args.load_session:
        setup = setup_from_session(args)
    elif args.data:
        setup = setup_from_csv(args)
    from gui.app import run_app
    return run_app(args, setup)


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.list_scenarios:
            return list_scenarios()
        if args.headless:
            return run_headless(args)
        return run_gui(args)
    except BackpropLabError as e:
        print(f"main.py: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("main.py: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("main.py: error: out of memory: the network or the data is too large for this "
              "machine", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (main.py ... | head): stop quietly, as command-line tools do,
        # and keep Python from complaining about the closed stdout on exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
