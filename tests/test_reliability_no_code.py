"""No code from files: nothing in models/, perchead_gui/, scripts/ or experiments/ can run code hidden in a file.

Parses every module (so comments, docstrings and error messages that *mention* ``torch.load`` do
not count, and ``model.eval()`` is not ``eval(``) and fails on any way of turning file bytes into
code: unpickling (``torch.load``, ``pickle`` and friends, ``np.load(allow_pickle=True)``,
``pandas.read_pickle``), unsafe YAML, builtin ``eval`` / ``exec`` / ``compile`` / ``__import__``,
and ``from_pretrained`` without ``use_safetensors=True`` (transformers falls back to pickled
``.bin`` weights otherwise). A legitimate exception goes in ALLOWED with a comment saying why.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("models", "perchead_gui", "scripts", "experiments")

# (path relative to the repo, line) -> why it is safe. Empty: nothing legitimate needs it.
ALLOWED: dict[tuple[str, int], str] = {}

PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
CODE_BUILTINS = {"eval", "exec", "compile", "__import__"}
# dotted call names that unpickle or evaluate, whatever their arguments
UNSAFE_CALLS = {"torch.load", "torch.jit.load", "torch.package.PackageImporter", "pd.read_pickle",
                "pandas.read_pickle", "yaml.unsafe_load", "yaml.full_load", "np.lib.format.read_array",
                "numpy.lib.format.read_array", "runpy.run_path", "importlib.machinery.SourceFileLoader"}
SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader"}


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _none_or_absent(node: ast.AST | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def findings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every construct that can run code from a file."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] in PICKLE_MODULES]
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in PICKLE_MODULES:
                out.append((node.lineno, f"from {node.module} import ..."))
            if node.module == "torch" and any(a.name == "load" for a in node.names):
                out.append((node.lineno, "from torch import load"))
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in CODE_BUILTINS:
                out.append((node.lineno, f"{name}(...)"))
            elif name in UNSAFE_CALLS:
                out.append((node.lineno, f"{name}(...)"))
            elif name in ("np.load", "numpy.load") and is_true(keyword(node, "allow_pickle")):
                out.append((node.lineno, f"{name}(..., allow_pickle=True)"))
            elif name == "yaml.load":
                loader = keyword(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
                if loader is None or dotted(loader).split(".")[-1] not in SAFE_YAML_LOADERS:
                    out.append((node.lineno, "yaml.load without a safe Loader"))
            elif name.endswith(".from_pretrained") and not is_true(keyword(node, "use_safetensors")):
                out.append((node.lineno, f"{name}(...) without use_safetensors=True"))
            elif name.endswith("create_model") and not _none_or_absent(keyword(node, "pretrained")):
                out.append((node.lineno, f"{name}(..., pretrained=...) downloads or unpickles weights"))
    return out


def sources() -> list[Path]:
    return sorted(p for root in ROOTS for p in (REPO / root).rglob("*.py") if ".venv" not in p.parts)


def test_the_scan_sees_the_whole_tree() -> None:
    files = sources()
    assert len(files) > 50 and REPO / "models" / "io" / "ply.py" in files and REPO / "perchead_gui" / "project.py" in files


def test_no_code_from_files_anywhere() -> None:
    hits = []
    for path in sources():
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        hits += [f"{rel}:{line}: {what}" for line, what in findings(tree) if (rel, line) not in ALLOWED]
    assert not hits, "code could run from a file:\n" + "\n".join(hits)


@pytest.mark.parametrize("snippet", [
    "import torch\nstate = torch.load(path)",
    "import torch\nm = torch.jit.load(p)",
    "from torch import load",
    "import pickle",
    "from pickle import loads",
    "import dill as pickle",
    "import numpy as np\nx = np.load(p, allow_pickle=True)",
    "import yaml\ncfg = yaml.load(text)",
    "import yaml\ncfg = yaml.load(text, Loader=yaml.Loader)",
    "import yaml\ncfg = yaml.unsafe_load(text)",
    "value = eval(text)",
    "exec(code)",
    "fn = compile(src, 'f', 'exec')",
    "import pandas as pd\ndf = pd.read_pickle(p)",
    "from transformers import AutoModel\nm = AutoModel.from_pretrained(folder)",
    "m = Dinov2Model.from_pretrained(folder, use_safetensors=False)",
    "clip = open_clip.create_model(name, pretrained='laion2b')",
])
def test_the_scan_catches_each_pattern(snippet: str) -> None:
    assert findings(ast.parse(snippet)), snippet


@pytest.mark.parametrize("snippet", [
    "model.eval()",
    "net.requires_grad_(False).eval()",
    "import re\npattern = re.compile(r'x')",
    "import numpy as np\nx = np.load(p)",
    "import numpy as np\nx = np.load(p, allow_pickle=False)",
    "import yaml\ncfg = yaml.safe_load(text)",
    "import yaml\ncfg = yaml.load(text, Loader=yaml.SafeLoader)",
    "from safetensors.torch import load_file\nstate = load_file(p)",
    "m = Dinov2Model.from_pretrained(folder, local_files_only=True, use_safetensors=True)",
    "clip = open_clip.create_model(name, pretrained=None)",
    "msg = 'convert with torch.load(path, weights_only=True)'",
])
def test_the_scan_leaves_safe_code_alone(snippet: str) -> None:
    assert not findings(ast.parse(snippet)), snippet
