"""The package's layout holds: the math and the experiments import no plotting, widget or torch
library at import time (torch only inside a function, for a comparison); notebooks call no private
name of lecture_lib and leave no name unused."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HEAVY = ("matplotlib", "ipywidgets", "torch")
# The torch layer and the live layer may import their libraries; everything else (the math, the course
# machinery, the experiments) imports none of them at import time.
HEAVY_ALLOWED = {"augment", "torch_rnn", "style", "widgets", "plots", "models", "recipes",
                 "experiments.regularization.augmentation", "experiments.regularization.decay"}


def _light_modules():
    import pkgutil

    import lecture_lib
    import lecture_lib.experiments

    names = [m.name for m in pkgutil.iter_modules(lecture_lib.__path__)]
    names += [f"experiments.{m.name}" for m in pkgutil.iter_modules(lecture_lib.experiments.__path__)]
    names += [f"experiments.{m.name}.{sub.name}" for m in pkgutil.iter_modules(lecture_lib.experiments.__path__)
              if m.ispkg for sub in pkgutil.iter_modules([str(Path(lecture_lib.experiments.__path__[0]) / m.name)])]
    return sorted(n for n in names if n not in HEAVY_ALLOWED)


def test_the_math_and_the_experiments_import_no_heavy_library():
    group = _light_modules()
    assert {"nets", "layers", "optim", "experiments.batchnorm", "experiments.regularization",
            "experiments.regularization.dropout"} <= set(group)
    code = (f"import importlib, json, sys\n"
            f"heavy = {{}}\n"
            f"for name in {group!r}:\n"
            f"    before = {{m for m in {HEAVY!r} if m in sys.modules}}\n"
            f"    importlib.import_module('lecture_lib.' + name)\n"
            f"    new = [m for m in {HEAVY!r} if m in sys.modules and m not in before]\n"
            f"    if new: heavy[name] = new\n"
            f"print(json.dumps(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}, out.stdout


def _code_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


PRIVATE = re.compile(r"\b(?:lecture_lib(?:\.\w+)*|[A-Za-z_]\w*)\.(_[A-Za-z]\w*)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_call_no_private_name(path):
    found = [(i, m.group(0)) for i, src in _code_cells(path) for m in PRIVATE.finditer(src)
             if not m.group(1).startswith("__")]
    assert not found, f"{path.name} calls private names: {found}"


def _unused_names(path) -> list:
    stored, loaded = {}, set()
    for i, src in _code_cells(path):
        tree = ast.parse("\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!"))))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                stored.setdefault(node.name, i)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    stored.setdefault((alias.asname or alias.name).split(".")[0], i)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            stored.setdefault(name.id, i)
        loaded |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted((cell, name) for name, cell in stored.items() if name not in loaded and name != "_")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_leave_no_name_unused(path):
    unused = _unused_names(path)
    assert not unused, f"{path.name}: (cell, name) assigned or imported but never used: {unused}"


def test_the_unused_name_check_finds_one(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import math\nx = 1\ny = x + 1"),
                                         nbformat.v4.new_code_cell("print(y)")])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert _unused_names(path) == [(0, "math")]


def _defined_names(source: str) -> set:
    """The public names a module's own top-level code binds (functions, classes, assignments)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return {n for n in names if not n.startswith("_")}


def _experiment_packages():
    import pkgutil

    import lecture_lib.experiments

    return [m.name for m in pkgutil.iter_modules(lecture_lib.experiments.__path__) if m.ispkg]


def test_experiment_packages_are_the_split_stems():
    assert {"activations", "backprop", "optimizers", "practice", "batchnorm", "regularization", "cnn",
            "rnn"} <= set(_experiment_packages())


@pytest.mark.parametrize("stem", _experiment_packages())
def test_an_experiment_package_re_exports_every_name_of_its_modules(stem):
    """``experiments.<stem>.<name>`` is the path of every public name of the package's modules (its
    ``__all__`` where it has one; the ledger names ``<stem>.measure_<what>``), and it is the object
    its module defines."""
    import importlib
    import pkgutil

    package = importlib.import_module(f"lecture_lib.experiments.{stem}")
    missing, other = [], []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        public = getattr(module, "__all__", None) or _defined_names(Path(module.__file__).read_text())
        for name in sorted(public):
            if not hasattr(package, name):
                missing.append(f"{info.name}.{name}")
            elif getattr(package, name) is not getattr(module, name):
                other.append(f"{info.name}.{name}")
    assert not missing, f"experiments.{stem} does not re-export {missing}"
    assert not other, f"experiments.{stem} re-exports another object under the names {other}"


def _measure_functions():
    import importlib
    import inspect
    import pkgutil

    import lecture_lib.experiments as experiments

    for info in pkgutil.walk_packages(experiments.__path__, experiments.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, fn in vars(module).items():
            if name.startswith("measure_") and inspect.isfunction(fn) and fn.__module__ == module.__name__:
                annotation = inspect.signature(fn).return_annotation
                yield f"{info.name}.{name}", (eval(annotation, vars(module)) if isinstance(annotation, str)
                                              else annotation)


def test_every_experiment_returns_a_frozen_dataclass():
    """The experiment contract: ``measure_<what>(...)`` returns a frozen dataclass (its return
    annotation says which), never a dict."""
    import dataclasses

    found = dict(_measure_functions())
    assert len(found) > 100
    wrong = [name for name, cls in found.items()
             if not (isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen)]
    assert not wrong, f"measure_* functions that do not return a frozen dataclass: {wrong}"
