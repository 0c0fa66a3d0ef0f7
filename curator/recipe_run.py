"""`curate run recipe.yaml`: named stages in order, each writing output, rejects and manifest into
a run folder.

A recipe is YAML (loaded with `yaml.safe_load`); paths in it are relative to the recipe file::

    name: demo
    workdir: ../runs/demo            # default: runs/<recipe name> beside the recipe
    stages:
      - convert: {inputs: [alpaca.json, sharegpt.json]}
      - filter: {recipe: filters.yaml}
      - dedup: {threshold: 0.8}
      - mix: {sources: ["@prev:0.8", "general.jsonl:0.2"]}
      - report: {}

Each stage is a `curate` command (or `train`) run as a subprocess with the recipe's keys turned
into its options, so the recipe accepts exactly what the command line accepts and the two can
never drift apart: keys are checked against the command's own parameters, and an unknown key is
an error naming the stage, the key and the closest real one. A stage's positional input is the
recipe key of the same name (``inputs``, ``sources``…, where ``@prev`` means the previous stage's
output, ``@LABEL`` an earlier stage's, ``@LABEL.eval`` a split's eval file and ``@LABEL.rejects`` its
rejects file, read back as ordinary input) or, when absent,
the previous stage's output. Path-typed options, and any value written ``./x`` or ``../x`` (a model
folder given to ``--model``, say), are resolved relative to the recipe file.

The evaluation loop is stages too (curator/recipe_eval.py): ``train-eval`` scores the previous
``train`` stage's model (``@LABEL`` is its ``train_eval.json``, what ``compare`` takes;
``@LABEL.badcases`` its mistakes), ``eval`` runs `curate eval`, and a stage after either that
names no input reads the badcases — ``augment`` turns them into new prompts.

The human step is a stage too: ``- review: {file: "@filter.rejects"}`` exports the decisions made
with ``curate review FILE`` (stored in ``FILE.review.sqlite``) — accepted rows are its output,
rejected ones ``@LABEL.badcases`` for a later ``distill`` to regenerate. Review first, then re-run:
the stage re-runs whenever the decisions change.

Safety (see docs/safety.md): stage names are plain names (letters, digits, ``-``, ``_``), so
every derived output lands inside the run folder; side outputs written in the recipe must resolve
inside it too (a path given with ``--set`` on the command line is the user's own choice); two
stages may not write the same file. Stages run with Python's ``-P`` (3.11+; a small launcher
before that), so neither the working folder nor the recipe's folder is on the import path: a
``.py`` file beside a recipe is never imported. User functions come from PYTHONPATH or
``--plugins DIR`` only, and are listed before anything runs (`user_code`).

Re-running skips a stage whose command, parameters and input files are unchanged and whose
outputs are still the ones it wrote (fingerprints in ``pipeline_state.json``); an interrupted
stage left no output (writes are atomic), so it runs again — generation stages resume from their
SQLite cache, sending no request that was already answered.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson
import xxhash
import yaml

from curator.errors import UsageError
from curator.formats.common import suggest
from curator.manifest import file_hash
from curator.redact import redact_text
from curator.rejects import manifest_path

STAGE_ORDER = ("convert", "validate", "augment", "distill", "bestofk", "score", "filter", "review", "dedup", "select",
               "mix", "split",
               "report", "train", "train-eval", "eval")
_RESERVED = {"name"}
# Options that name files a stage writes (beside its main output) or keeps as state: they are
# not inputs, so their content must not change the stage's fingerprint.
_SIDE_OUTPUTS = {"pairs", "report", "conflicts", "html", "badcases"}
_STATE_FILES = {"cache"}
_RATIO = re.compile(r"^(?P<path>.+):(?P<ratio>[0-9]*\.?[0-9]+)$")


_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_USER_FN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass
class Stage:
    index: int
    command: str
    label: str
    params: dict[str, Any]
    overridden: set[str] = field(default_factory=set)  # keys set with --set on the command line


@dataclass
class Recipe:
    path: Path
    name: str
    workdir: Path
    stages: list[Stage]
    practice: Any = None  # the `practice:` key: False, a YAML path, a mapping, or None (defaults)

    @property
    def base(self) -> Path:
        return self.path.parent


@dataclass
class StageResult:
    stage: Stage
    status: str  # ran | skipped | failed | unavailable
    seconds: float = 0.0
    exit_code: int = 0
    outputs: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------ loading
def load_recipe(path: str | Path, workdir: str | Path | None = None) -> Recipe:
    """Parse a recipe file; shape errors raise `UsageError` naming the recipe and the stage."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: no such recipe file")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise UsageError(f"{p}: not valid YAML ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("stages"), list) or not doc["stages"]:
        raise UsageError(f"{p}: a recipe needs a non-empty 'stages' list")
    unknown = set(doc) - {"name", "workdir", "stages", "practice"}
    if unknown:
        raise UsageError(f"{p}: unknown top-level key(s) {sorted(unknown)} (allowed: name, workdir, stages, practice)")
    name = str(doc.get("name") or p.stem)
    wd = Path(workdir) if workdir else (p.parent / doc["workdir"] if doc.get("workdir") else p.parent / "runs" / name)
    stages = []
    labels: set[str] = set()
    for i, item in enumerate(doc["stages"], 1):
        if isinstance(item, str):
            item = {item: {}}
        if not isinstance(item, dict) or len(item) != 1:
            raise UsageError(f"{p}: stage {i} must be a mapping with one key, the stage name (e.g. '- filter: {{...}}')")
        (command, params), = item.items()
        params = dict(params or {})
        if not isinstance(params, dict):
            raise UsageError(f"{p}: stage {i} ({command}): parameters must be a mapping")
        if command not in STAGE_ORDER:
            hint = suggest(str(command), STAGE_ORDER)
            raise UsageError(f"{p}: stage {i}: unknown stage '{command}'"
                             + (f" — did you mean '{hint}'?" if hint else f" (stages: {', '.join(STAGE_ORDER)})"))
        label = str(params.pop("name", f"{i:02d}-{command}"))
        if not _LABEL.match(label):
            raise UsageError(f"{p}: stage {i}: name {label!r} is not a plain name — use letters, digits, '-' and "
                             f"'_' (it names files in the run folder; no '/', '.' or '..')")
        if label in labels:
            raise UsageError(f"{p}: stage {i}: the name '{label}' is used twice")
        labels.add(label)
        stages.append(Stage(i, command, label, params))
    return Recipe(p.resolve(), name, wd.resolve(), stages, doc.get("practice"))


# --------------------------------------------------------------------- command introspection
def _command(name: str):
    """The click command behind `curate NAME` (or `train`), or None when not installed."""
    import typer

    if name == "train":
        return _train_command()
    if name == "train-eval":
        from curator.recipe_eval import train_eval_command

        return train_eval_command(_TrainParam, _TrainCommand)
    group = typer.main.get_command(_stage_app())
    return group.commands.get(name)  # type: ignore[attr-defined]


_STAGE_APP: Any = None


def _stage_app() -> Any:
    """The stage commands on an app of their own (not `curator.cli`'s, which holds `run` too)."""
    global _STAGE_APP
    if _STAGE_APP is None:
        import typer

        from curator.commands import register_all

        _STAGE_APP = typer.Typer()
        register_all(_STAGE_APP, skip={"run"})
    return _STAGE_APP


@dataclass
class _TrainParam:
    name: str
    opts: list[str]
    param_type_name: str = "option"
    path: bool = False  # a file or folder: recipe values are relative to the recipe file
    is_flag: bool = False
    secondary_opts: list[str] = field(default_factory=list)


@dataclass
class _TrainCommand:
    """`train` parses its own flags (argparse, from the TrainConfig dataclass) and takes
    ``key=value`` overrides after the data paths; the recipe passes every key that way."""

    params: list[_TrainParam]


def _train_command() -> _TrainCommand | None:
    import importlib.util

    if importlib.util.find_spec("trl") is None or importlib.util.find_spec("peft") is None:
        return None
    from trainer.config import TrainConfig

    names = [f.name for f in dataclasses.fields(TrainConfig)]
    return _TrainCommand([_TrainParam("data", ["data"], "argument")] +
                         [_TrainParam(n, ["--" + n.replace("_", "-")]) for n in names if n != "data"])


def _params(cmd) -> dict[str, Any]:
    out = {}
    for prm in cmd.params:
        out[prm.name] = prm
        for opt in getattr(prm, "opts", []):
            out[opt.lstrip("-").replace("-", "_")] = prm
    return out


def _is_path_param(prm) -> bool:
    """Whether a parameter is declared as a Path (then recipe values are recipe-relative)."""
    if isinstance(prm, _TrainParam):
        return prm.path
    ann = getattr(getattr(prm, "type_descriptor", None), "annotation", None)
    if ann is None:  # plain click
        import click

        return isinstance(getattr(prm, "type", None), click.Path)
    return ann is Path or "Path" in str(ann)


def validate_recipe(recipe: Recipe) -> list[str]:
    """Every problem with the recipe's stage parameters (empty when it can run)."""
    problems = []
    for st in recipe.stages:
        cmd = _command(st.command)
        if cmd is None:
            if st.command not in ("train", "train-eval"):
                problems.append(f"stage {st.index} ({st.label}): the '{st.command}' command is not available in this install")
            continue
        known = _params(cmd)
        for key in st.params:
            if key.replace("-", "_") in ("out", "o"):  # the run folder names every output
                problems.append(f"stage {st.index} ({st.label}): '{key}' is not a recipe key — a stage writes "
                                f"into the run folder under its name (name: LABEL)")
                continue
            if key.replace("-", "_") in known:
                continue
            hint = suggest(key, [k for k in known if k not in ("out", "o", "help")])
            problems.append(f"stage {st.index} ({st.label}): unknown parameter '{key}' for {st.command}"
                            + (f" — did you mean '{hint}'?" if hint else ""))
    from curator.practice.recipe_hook import recipe_setting

    try:
        recipe_setting(recipe.practice, recipe.base, str(recipe.path))
    except UsageError as e:
        problems.append(str(e))
    if not problems:
        problems += output_problems(recipe)
    return problems


def _planned(recipe: Recipe) -> Iterator[tuple[Stage, list[str], dict[str, Path]]]:
    """Every available stage with its command line and outputs, as a full run would build them."""
    outputs: dict[str, dict[str, Path]] = {}
    prev: str | None = None
    for st in recipe.stages:
        if _command(st.command) is None:
            continue
        args, outs = build_args(st, recipe, outputs, prev)
        yield st, args, outs
        outputs[st.label] = outs
        if st.command != "report":
            prev = st.label


def output_problems(recipe: Recipe) -> list[str]:
    """Outputs outside the run folder, and two stages (or two outputs of one) writing one file."""
    from curator.rejects import rejects_path

    problems: list[str] = []
    owner: dict[Path, str] = {}
    try:
        for st, _, outs in _planned(recipe):
            for key, p in outs.items():
                if key == "_state":
                    continue
                files = [p] if key != "data" or st.command == "report" else [p, rejects_path(p), manifest_path(p)]
                for f in files:
                    f = f.resolve()
                    here = f"stage {st.index} ({st.label}) {key}"
                    if f in owner:
                        problems.append(f"{here} writes {f}, which {owner[f]} also writes")
                    owner.setdefault(f, here)
    except UsageError as e:
        problems.append(str(e))
    return problems


def user_code(recipe: Recipe) -> list[str]:
    """The user functions (module:function) a recipe's stages will import, with where they are
    named — printed by `curate run` before it runs anything."""
    found: list[str] = []

    def walk(obj: Any, where: str) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k == "function" and isinstance(v, str):
                    found.append(f"{v}  ({where})")
                else:
                    walk(v, where)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, where)
        elif isinstance(obj, str) and _USER_FN.match(obj) and not obj.startswith(("rm:", "fn:")):
            found.append(f"{obj}  ({where})")

    for st in recipe.stages:
        for key, value in st.params.items():
            where = f"stage {st.label}, {key}"
            for v in value if isinstance(value, list) else [value]:
                walk(v, where)
                if isinstance(v, str) and v.endswith((".yaml", ".yml")) and not v.startswith("@"):
                    f = Path(v) if Path(v).is_absolute() else recipe.base / v
                    try:
                        walk(yaml.safe_load(f.read_text(encoding="utf-8")), f"stage {st.label}, {f.name}")
                    except (OSError, yaml.YAMLError):
                        pass
    return found


def stage_python(module: str) -> list[str]:
    """How a stage's interpreter starts: never with the working folder on the import path."""
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", module]
    launcher = ("import sys, runpy; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
                f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", launcher]


# ----------------------------------------------------------------------------- running
def _resolve_token(value: str, recipe: Recipe, outputs: dict[str, dict[str, Path]], prev: str | None) -> str:
    """`@prev`, `@LABEL`, `@LABEL.eval` and recipe-relative paths, keeping a `:ratio` suffix."""
    m = _RATIO.match(value)
    path, suffix = (m.group("path"), ":" + m.group("ratio")) if m else (value, "")
    if path.startswith("@"):
        ref, _, which = path[1:].partition(".")
        ref = prev if ref == "prev" else ref
        if ref is None or ref not in outputs:
            raise UsageError(f"{value}: no earlier stage output called '{path[1:]}'")
        key = which or ("model" if "data" not in outputs[ref] and "model" in outputs[ref] else "data")
        if key == "rejects" and "rejects" not in outputs[ref] and "data" in outputs[ref]:
            from curator.rejects import rejects_path

            return str(rejects_path(outputs[ref]["data"])) + suffix
        if key not in outputs[ref]:
            raise UsageError(f"{value}: stage '{ref}' has no '{key}' output (it has {sorted(outputs[ref])})")
        return str(outputs[ref][key]) + suffix
    p = Path(path)
    return str(p if p.is_absolute() else (recipe.base / p).resolve()) + suffix


def _stage_outputs(st: Stage, cmd, workdir: Path) -> dict[str, Path]:
    known = _params(cmd) if cmd is not None else {}
    if st.command == "train":
        return {"model": workdir / st.label}
    if st.command == "report":
        return {"data": workdir / f"{st.label}.html"}
    if st.command == "review":
        return {"data": workdir / f"{st.label}.jsonl", "badcases": workdir / f"{st.label}.badcases.jsonl"}
    if st.command in ("eval", "train-eval"):
        from curator.recipe_eval import eval_outputs

        return eval_outputs(st.command, st.label, workdir)
    outs: dict[str, Path] = {}
    if "train" in known and "eval" in known and st.command == "split":
        outs = {"data": workdir / f"{st.label}.train.jsonl", "eval": workdir / f"{st.label}.eval.jsonl"}
        if "test" in known and st.params.get("test_size"):
            outs["test"] = workdir / f"{st.label}.test.jsonl"
        return outs
    return {"data": workdir / f"{st.label}.jsonl"}


def build_args(st: Stage, recipe: Recipe, outputs: dict[str, dict[str, Path]], prev: str | None) -> tuple[list[str], dict[str, Path]]:
    """The command line for one stage and the outputs it will write."""
    cmd = _command(st.command)
    if cmd is None:
        raise UsageError(f"stage {st.index} ({st.label}): '{st.command}' is not available")
    if st.command == "review":
        return _review_args(st, recipe, outputs, prev)
    known = _params(cmd)
    positional = next((p for p in cmd.params if p.param_type_name == "argument"), None)
    args: list[str] = []
    params = dict(st.params)
    pos_values = params.pop(positional.name, None) if positional is not None else None
    if positional is not None:
        if pos_values is None:
            from curator.recipe_eval import default_input

            pos_values = default_input(st, recipe, outputs, prev)
        if pos_values is None:
            if prev is None:
                raise UsageError(f"stage {st.index} ({st.label}): no input — give '{positional.name}' "
                                 f"or put a stage before it")
            pos_values = ["@prev"]
        if not isinstance(pos_values, list):
            pos_values = [pos_values]
        args += [_resolve_token(str(v), recipe, outputs, prev) for v in pos_values]
    outs = _stage_outputs(st, cmd, recipe.workdir)
    if st.command == "split":
        args += ["--train", str(outs["data"]), "--eval", str(outs["eval"])]
        if "test" in outs:
            args += ["--test", str(outs["test"])]
    elif "out" in known:
        from curator.recipe_eval import out_arg

        args += ["--out", str(out_arg(st.command, outs))]
    if st.command == "eval" and "badcases" not in params:  # the mistakes, for a later augment stage
        args += ["--badcases", str(outs["badcases"])]
    if st.command == "train" and "eval" in known and "eval" not in params and prev and "eval" in outputs.get(prev, {}):
        params["eval"] = "@prev.eval"
    if st.command == "train":
        for key, value in params.items():
            if value is None:
                continue
            sv = str(value).lower() if isinstance(value, bool) else str(value)
            if sv.startswith(("@", "./", "../")):
                sv = _resolve_token(sv, recipe, outputs, prev)
            args.append(f"{key.replace('-', '_')}={sv}")
        return args, outs
    for key, value in params.items():
        prm = known[key.replace("-", "_")]
        opt = next((o for o in prm.opts if o.startswith("--")), prm.opts[0])
        values = value if isinstance(value, list) else [value]
        if getattr(prm, "is_flag", False):
            if value:
                args.append(opt)
            elif prm.secondary_opts:
                args.append(prm.secondary_opts[0])
            continue
        if value is None:
            continue
        for v in values:
            v = str(v).lower() if isinstance(v, bool) else v
            sv = str(v)
            # Path parameters, @references and any value written as ./x or ../x are recipe-relative.
            if _is_path_param(prm) or sv.startswith(("@", "./", "../")):
                sv = _resolve_token(sv, recipe, outputs, prev)
            name = key.replace("-", "_")
            if name in _SIDE_OUTPUTS:
                if name not in st.overridden and not Path(sv).resolve().is_relative_to(recipe.workdir):
                    raise UsageError(f"stage {st.index} ({st.label}): {name} {sv} is outside the run folder "
                                     f"{recipe.workdir}; a recipe writes only inside it (or pass --set "
                                     f"{st.label}.{name}=PATH yourself)")
                outs[name] = Path(sv)
            elif name in _STATE_FILES:
                outs.setdefault("_state", Path(sv))
            args += [opt, sv]
    return args, outs


def _review_args(st: Stage, recipe: Recipe, outputs: dict[str, dict[str, Path]], prev: str | None
                 ) -> tuple[list[str], dict[str, Path]]:
    """`curate review export FILE --accepted OUT --badcases BAD [--db DB]` for a review stage."""
    params = dict(st.params)
    unknown = set(params) - {"file", "db"}
    if unknown:
        raise UsageError(f"stage {st.index} ({st.label}): review takes 'file' and 'db', not {sorted(unknown)}")
    src = params.get("file") or "@prev"
    if src == "@prev" and prev is None:
        raise UsageError(f"stage {st.index} ({st.label}): no input — give 'file' or put a stage before it")
    file = _resolve_token(str(src), recipe, outputs, prev)
    db = _resolve_token(str(params["db"]), recipe, outputs, prev) if params.get("db") else file + ".review.sqlite"
    outs = _stage_outputs(st, None, recipe.workdir)
    # The decisions database is an input: new decisions make the stage run again.
    return ["export", file, "--accepted", str(outs["data"]), "--badcases", str(outs["badcases"]), "--db", db], outs


def _fingerprint(st: Stage, args: list[str], outs: dict[str, Path]) -> str:
    """Hash of the command line and the content of every input file it names (not its outputs)."""
    from curator import __version__

    h = xxhash.xxh3_128()
    h.update(orjson.dumps({"command": st.command, "args": args, "version": __version__}))
    own = {str(p) for p in outs.values()} | {str(p.parent) for p in outs.values()}
    for a in args:
        if st.command == "train" and "=" in a and not a.startswith("/"):
            a = a.split("=", 1)[1]  # train's key=value: init_adapter=/run/round1
        p = Path(a.rsplit(":", 1)[0]) if _RATIO.match(a) else Path(a)
        if str(p) in own:
            continue
        if a.startswith("/") and p.is_dir():  # a model folder: retrained means changed
            from curator.recipe_eval import folder_stamp

            h.update(folder_stamp(p))
        if a.startswith("/") and p.exists() and not p.is_dir() and p.suffix in (".jsonl", ".json", ".gz", ".parquet",
                                                                                   ".yaml", ".yml", ".md", ".sqlite"):
            h.update(file_hash(p).encode())
    return h.hexdigest()


def _outputs_hash(outs: dict[str, Path]) -> str | None:
    h = xxhash.xxh3_128()
    for key in sorted(outs):
        if key == "_state":
            continue
        p = outs[key]
        if not p.exists():
            return None
        h.update(key.encode())
        h.update(file_hash(p).encode())
    return h.hexdigest()


def _load_state(workdir: Path) -> dict[str, Any]:
    f = workdir / "pipeline_state.json"
    return orjson.loads(f.read_bytes()) if f.exists() else {}


def _save_state(workdir: Path, state: dict[str, Any]) -> None:
    from curator.atomic import atomic_write_bytes

    atomic_write_bytes(workdir / "pipeline_state.json", orjson.dumps(state, option=orjson.OPT_INDENT_2))


def _select(recipe: Recipe, start: str | None, until: str | None) -> tuple[int, int]:
    def find(key: str) -> int:
        for i, st in enumerate(recipe.stages):
            if key in (st.label, st.command, str(st.index)):
                return i
        raise UsageError(f"no stage '{key}' in {recipe.path.name} (stages: {', '.join(s.label for s in recipe.stages)})")

    return (find(start) if start else 0), (find(until) if until else len(recipe.stages) - 1)


def apply_overrides(recipe: Recipe, sets: list[str]) -> None:
    """`--set LABEL_OR_COMMAND.key=value` (value parsed as YAML: numbers, booleans, lists)."""
    for item in sets:
        target, eq, value = item.partition("=")
        st_key, dot, key = target.partition(".")
        if not eq or not dot:
            raise UsageError(f"--set {item!r}: expected STAGE.key=value, e.g. --set train.max_steps=5")
        matched = [s for s in recipe.stages if st_key in (s.label, s.command)]
        if not matched:
            raise UsageError(f"--set {item!r}: no stage '{st_key}'")
        for s in matched:
            s.params[key] = yaml.safe_load(value)
            s.overridden.add(key.replace("-", "_"))


def run_recipe(recipe: Recipe, *, start: str | None = None, until: str | None = None, force: bool = False,
                 echo=print) -> list[StageResult]:
    """Run the selected stages in order; stop at the first that fails (exit code 1 or 2)."""
    problems = validate_recipe(recipe)
    if problems:
        raise UsageError("recipe has problems:\n  " + "\n  ".join(problems))
    recipe.workdir.mkdir(parents=True, exist_ok=True)
    state = _load_state(recipe.workdir)
    lo, hi = _select(recipe, start, until)
    from curator.practice.recipe_hook import after_stage, recipe_setting

    practice = recipe_setting(recipe.practice, recipe.base, str(recipe.path))
    outputs: dict[str, dict[str, Path]] = {}
    results: list[StageResult] = []
    prev: str | None = None
    for i, st in enumerate(recipe.stages):
        cmd = _command(st.command)
        if cmd is None:  # only `train`/`train-eval` can be missing: the [train] extra is not installed
            echo(f"[{st.label}] skipped: install the [train] extra to run the {st.command} stage")
            results.append(StageResult(st, "unavailable"))
            continue
        args, outs = build_args(st, recipe, outputs, prev)
        if i < lo or i > hi:
            if i < lo:  # earlier stages' outputs feed the selected ones
                outputs[st.label] = outs
                if st.command != "report":
                    prev = st.label
            continue
        fp = _fingerprint(st, args, outs)
        saved = state.get(st.label, {})
        if not force and saved.get("fingerprint") == fp and saved.get("outputs_hash") == _outputs_hash(outs):
            echo(f"[{st.label}] unchanged, skipped")
            results.append(StageResult(st, "skipped", outputs=outs, counts=_counts(outs)))
        else:
            from curator.recipe_eval import stage_launch

            module, sub, words = stage_launch(st.command)
            argv = stage_python(module) + sub + args
            # Echo the command a user would type (`curate …` / `train …`), quoted for copy and paste.
            typed = words + args
            echo(redact_text(f"[{st.label}] {shlex.join(_shorten(a, recipe) for a in typed)}"))
            t0 = time.perf_counter()
            rc = subprocess.call(argv, env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONSAFEPATH": "1"})
            res = StageResult(st, "ran" if rc == 0 else "failed", time.perf_counter() - t0, rc, outs, _counts(outs))
            results.append(res)
            if rc != 0:
                echo(f"[{st.label}] failed with exit code {rc}; later stages not run")
                state.pop(st.label, None)
                _save_state(recipe.workdir, state)
                break
            state[st.label] = {"fingerprint": fp, "outputs_hash": _outputs_hash(outs)}
            _save_state(recipe.workdir, state)
            for line in after_stage(st.command, outs.get("data"), practice):  # the checks this stage changes
                echo(f"[{st.label}] {line}")
        outputs[st.label] = outs
        if st.command != "report":  # a report is a side output: the next stage reads the data before it
            prev = st.label
    return results


def _counts(outs: dict[str, Path]) -> dict[str, Any]:
    m = manifest_path(outs.get("data", Path("/nonexistent")))
    if m.exists():
        return orjson.loads(m.read_bytes()).get("counts", {})
    return {}


def _shorten(arg: str, recipe: Recipe) -> str:
    try:
        return os.path.relpath(arg, Path.cwd()) if arg.startswith("/") else arg
    except ValueError:
        return arg
