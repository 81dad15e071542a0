"""Command line: ``limekit demo`` (also ``python -m limekit demo``)."""

from __future__ import annotations

import argparse
import sys

from ._optional import import_optional
from .viz.numbers import readable

__all__ = ["main", "build_parser", "run_explain"]

#: bootstrap refits of the stability figures when --stability is not given (LIME only)
DEFAULT_STABILITY = 20


EXPLAIN_HELP = """Explain one row of a CSV file with a saved scikit-learn model.

The model file is loaded with joblib.  Unpickling runs code: load only model
files you trust.  limekit reads only the files named on the command line.
The CSV (with a header row) supplies both the sampling statistics and the
row to explain; name the label column with --target to leave it out.  An
empty cell of a numeric column is a missing value: explained as a state of
its own ("income is missing") and handed to the model as NaN.
"""


def run_explain(args, out=None):
    """The ``limekit explain`` command."""
    from pathlib import Path

    from .demos import format_table, print_fit, print_shapley, print_stability, print_verdict, write_outputs
    from .tabular import TabularExplainer

    out = sys.stdout if out is None else out
    shapley = args.kernel == "shap"
    if shapley and args.surrogate is not None:
        raise ValueError(
            f"--surrogate: expected none with --kernel shap (Shapley values are computed, not fitted); "
            f"got {args.surrogate!r}"
        )
    if shapley and args.stability:
        raise ValueError(
            f"--stability: expected 0 or none with --kernel shap (the values come with standard errors); "
            f"got {args.stability}"
        )
    if shapley and args.variance_reduction == "emulator":
        raise ValueError("--variance-reduction: expected auto or none with --kernel shap; got 'emulator'")
    model_path, data_path = Path(args.model), Path(args.data)
    for path, what in ((model_path, "model"), (data_path, "data")):
        if not path.is_file():
            raise ValueError(f"{what}: expected an existing file; got {str(path)!r}")
    frame = _read_csv(data_path)
    if args.target is not None:
        if args.target not in frame.columns:
            raise ValueError(f"--target: expected a column of {data_path.name}; got {args.target!r}")
        frame = frame.drop(columns=[args.target])
    if not 0 <= args.row < len(frame):
        raise ValueError(f"--row: expected a row index in [0, {len(frame) - 1}]; got {args.row}")
    _check_numbers(frame, data_path.name)
    model = _load_model(model_path)
    mode = args.mode or ("classification" if hasattr(model, "predict_proba") else "regression")
    method = "predict_proba" if mode == "classification" else "predict"
    if not callable(getattr(model, method, None)):
        raise ValueError(f"model: expected an estimator with {method}; got {type(model).__name__}")
    frame = _match_model_columns(frame, model, data_path.name)
    predict = _one_line_errors(getattr(model, method), f"model: {type(model).__name__}.{method}")
    class_names = [str(c) for c in getattr(model, "classes_", [])] or None
    if shapley:  # the background: 100 rows of the CSV (TabularExplainer's default)
        method_options: dict = {"kernel": "shap"}
    else:
        stability = DEFAULT_STABILITY if args.stability is None else args.stability
        method_options = {"surrogate": args.surrogate or "ridge", "stability_samples": stability}
    explainer = TabularExplainer(
        frame,
        mode=mode,
        class_names=class_names if mode == "classification" else None,
        random_state=args.random_state,
        batch_size=1000,
        progress_bar="auto" if not args.quiet else False,  # a bar only on a terminal, for runs over two seconds
        **method_options,
    )
    exp = explainer.explain_instance(
        frame.iloc[args.row],
        predict,
        num_features=args.num_features,
        num_samples=args.num_samples,
        variance_reduction=None if args.variance_reduction == "none" else args.variance_reduction,
        top_labels=1 if mode == "classification" else None,
    )
    label = exp.top_labels[0] if mode == "classification" else 1
    if not args.quiet:
        what = (
            f"class {exp.class_names[label]} (p = {exp.predict_proba[label]:.3f})"
            if mode == "classification"
            else f"prediction {readable(exp.predicted_value)}"
        )
        print(f"Row {args.row} of {data_path.name}: {what}", file=out)
        print(format_table(exp, label=label), file=out)
        if shapley:
            print_shapley(exp, label, out)
        else:
            print_fit(exp, label, out)
            print_stability(exp, label, out)
        print_verdict(exp, out)
    write_outputs(exp, label, html=args.html, json_path=args.json, png=args.png)
    return exp


def _one_line(text):
    """``text`` on one line: its lines joined, at most 500 characters."""
    line = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return line if len(line) <= 500 else line[:497] + "..."


def _read_csv(path):
    """The CSV as a DataFrame; an unreadable file is one error naming it."""
    pd = import_optional("pandas", "limekit's command line")

    try:
        frame = pd.read_csv(path)
    except Exception as exc:  # EmptyDataError, ParserError, UnicodeDecodeError, ...
        raise ValueError(
            f"data: expected a CSV file with a header row; got {path.name!r}, which could not be "
            f"read ({type(exc).__name__}: {_one_line(exc)})"
        ) from None
    if frame.shape[1] == 0:
        raise ValueError(f"data: expected a CSV file with a header row and columns; got {path.name!r} without any")
    return frame


def _check_numbers(frame, name):
    """An infinite value in a numeric column is an error naming the column and line (empty cells are missing values)."""
    import numpy as np

    numeric = frame.select_dtypes(include="number")
    if numeric.shape[1] == 0:
        return
    bad = np.isinf(numeric.to_numpy(dtype=float, na_value=np.nan))
    if not bad.any():
        return
    column = int(np.flatnonzero(bad.any(axis=0))[0])
    rows = np.flatnonzero(bad[:, column])
    raise ValueError(
        f"data: expected finite numbers or empty cells in numeric column {numeric.columns[column]!r} of {name}; "
        f"got {rows.size} infinite value(s), the first on line {int(rows[0]) + 2} (row {int(rows[0])}). "
        f"Replace them by a number or leave the cell empty (a missing value, explained as one)."
    )


def _load_model(path):
    """The model in a joblib file; anything else is one error naming the file."""
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:  # not a pickle, truncated, a class that no longer imports, ...
        reason = _one_line(exc) or "no detail"
        raise ValueError(
            f"model: expected a model saved with joblib.dump; got {path.name!r}, which could not be "
            f"loaded ({type(exc).__name__}: {reason})"
        ) from None


def _match_model_columns(frame, model, name):
    """The CSV's columns in the model's order; a mismatch is an error listing the difference."""
    expected = getattr(model, "feature_names_in_", None)
    if expected is not None:
        expected = [str(c) for c in expected]
        columns = [str(c) for c in frame.columns]
        missing = [c for c in expected if c not in columns]
        unknown = [c for c in columns if c not in expected]
        if missing or unknown:
            got = "; ".join(
                part
                for part in (f"missing {missing}" if missing else "", f"unknown {unknown}" if unknown else "")
                if part
            )
            hint = " (name the label column with --target)" if unknown and not missing else ""
            raise ValueError(f"data: expected the model's columns {expected} in {name}; got {got}{hint}")
        return frame[[frame.columns[columns.index(c)] for c in expected]]
    n_features = getattr(model, "n_features_in_", None)
    if isinstance(n_features, int) and n_features != frame.shape[1]:
        raise ValueError(
            f"data: expected {n_features} feature columns (the model's) in {name}; got "
            f"{frame.shape[1]}: {[str(c) for c in frame.columns]}"
        )
    return frame


class ModelError(RuntimeError):
    """The model failed on the rows limekit gave it."""


def _one_line_errors(method, name):
    """``method`` with its exceptions turned into a one-line :class:`ModelError`."""

    def call(rows):
        try:
            return method(rows)
        except Exception as exc:
            raise ModelError(f"{name} failed: {type(exc).__name__}: {_one_line(exc) or 'no detail'}") from exc

    return call


def run_demo(args):
    """The ``limekit demo`` command."""
    from .demos import DEMOS

    options = dict(
        num_features=args.num_features,
        random_state=args.random_state,
        progress_bar="auto" if not args.quiet else False,
        html=args.html,
        json_path=args.json,
        png=args.png,
        stability_samples=DEFAULT_STABILITY if args.stability is None else args.stability,
    )
    if args.num_samples is not None:
        options["num_samples"] = args.num_samples
    if args.modality == "tabular":
        options["row"] = args.row
    return DEMOS[args.modality](**options)


def _add_output_arguments(command, quiet_help):
    """--html, --json, --png and --quiet, shared by every command."""
    command.add_argument("--html", help="write a self-contained HTML page here")
    command.add_argument("--json", help="write the explanation as JSON here")
    command.add_argument("--png", help="write a bar chart here")
    command.add_argument("--quiet", action="store_true", help=quiet_help)
    command.add_argument(
        "--stability",
        type=int,
        default=None,
        help=f"bootstrap refits for the stability figures, no model call (default {DEFAULT_STABILITY}; 0 skips)",
    )


def _num_samples(text):
    """``--num-samples``: an integer or 'auto'."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto'; got {text!r}") from None


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (``limekit: error: ...``), exit status 2."""

    def error(self, message):
        self.exit(2, f"limekit: error: {_one_line(message)} (see {self.prog} --help)\n")


def build_parser():
    parser = _Parser(prog="limekit", description="Fast LIME explanations that say how far they can be trusted.")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="explain a model's prediction on bundled or generated data")
    demo.add_argument(
        "modality",
        nargs="?",
        default="tabular",
        choices=["tabular", "text", "image"],
        help="tabular: gradient-boosted trees on the bundled Adult census data (default); "
        "text: a classifier of generated reviews; image: a toy classifier on "
        "scikit-image's astronaut photo",
    )
    demo.add_argument("--row", type=int, default=0, help="tabular: test-set row to explain (default 0)")
    demo.add_argument(
        "--num-samples",
        type=_num_samples,
        help="perturbations, or 'auto' to sample until the "
        "explanation is stable (default 5000 tabular, 3000 "
        "text, 500 image)",
    )
    demo.add_argument("--num-features", type=int, default=8, help="features shown (default 8)")
    demo.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    _add_output_arguments(demo, quiet_help="no progress bar")
    explain = commands.add_parser(
        "explain",
        help="explain a row of a CSV with a saved scikit-learn model",
        description=EXPLAIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain.add_argument("model", help="model file saved with joblib.dump (unpickling runs code: trusted files only)")
    explain.add_argument("data", help="CSV file with a header row: sampling statistics and the row to explain")
    explain.add_argument("--row", type=int, default=0, help="index of the row to explain (default 0)")
    explain.add_argument("--target", help="label column to drop from the CSV")
    explain.add_argument(
        "--mode",
        choices=["classification", "regression"],
        help="default: classification when the model has predict_proba",
    )
    explain.add_argument(
        "--kernel",
        choices=["lime", "shap"],
        default="lime",
        help="lime (default): a local surrogate's weights; shap: Shapley values (KernelSHAP, 100 rows of the CSV "
        "as the background) with their standard errors",
    )
    explain.add_argument("--surrogate", help="ridge (default), lasso, ebm or gaminet (with --kernel lime)")
    explain.add_argument(
        "--num-samples",
        type=_num_samples,
        default=5000,
        help="perturbations, or 'auto' to sample until the explanation is stable (default 5000)",
    )
    explain.add_argument(
        "--variance-reduction",
        choices=["auto", "emulator", "none"],
        default="auto",
        help="emulator: fewer model rows for the same stability, for slow models (fits a "
        "gradient-boosted emulator of the model each round; ridge surrogate only); auto (default, "
        "with --num-samples auto): the emulator when it pays, from the model's measured time",
    )
    explain.add_argument("--num-features", type=int, default=10, help="features shown (default 10)")
    explain.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    _add_output_arguments(explain, quiet_help="no progress bar, no table")
    return parser


def main(argv=None):
    """Entry point of the ``limekit`` console script; errors are one readable line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "demo":
            run_demo(args)
        else:
            run_explain(args)
    except Exception as exc:  # one readable line, not a traceback
        print(f"limekit: error: {_one_line(exc) or type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
