"""One import namespace: Loupe's code is ``loupe.agent``, ``loupe.tools`` and ``loupe.programs``.

The distribution was named ``loupe`` (an unrelated PyPI project) and its packages ``agent``, ``tools`` and
``programs`` sat at the top of site-packages, so a user's own ``tools.py`` next to their script broke Loupe.
"""

from pathlib import Path
import ast
import re
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
FORMER = {"agent", "tools", "programs"}
CODE_IN_STRING = re.compile(r"[\"'](?:[^\"'\n]*\\n)*\s*(?:from|import) (?:agent|tools|programs)[. ]")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_no_code_imports_the_former_top_level_names():
    """Statements and code held in strings (``python -c "from agent.cli import main"``) alike."""
    offenders = [f"{path.relative_to(ROOT)}: {name}"
                 for folder in ("loupe", "tests", "bench", "examples")
                 for path in sorted((ROOT / folder).rglob("*.py")) if "tests/data" not in path.as_posix()
                 for name in _imports(path) if name.split(".")[0] in FORMER]
    in_strings = [f"{path.relative_to(ROOT)}: {found.group(0)}"
                  for folder in ("loupe", "tests", "bench", "examples", "docs")
                  for path in sorted((ROOT / folder).rglob("*.py"))
                  if "tests/data" not in path.as_posix() and path != Path(__file__).resolve()
                  for found in CODE_IN_STRING.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == [] and in_strings == []


def test_a_users_own_tools_and_agent_modules_do_not_shadow_loupe(tmp_path):
    """A folder with its own tools.py, agent.py and programs.py: ``loupe`` still starts and checks a program."""
    for name in FORMER:
        (tmp_path / f"{name}.py").write_text("raise ImportError('the user module, not Loupe')\n")
    program = tmp_path / "count.txt"
    program.write_text("BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)\n")
    done = subprocess.run([sys.executable, "-c", "import sys; from loupe.agent.cli import main; sys.exit(main())",
                           "check", str(program)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the user module" not in done.stderr


def test_install_hints_name_this_checkout_never_the_unrelated_loupe():
    """In a clone, the hint names the clone's folder (pasteable anywhere); it never names PyPI's `loupe`."""
    from loupe.tools.install import pip_extra
    from loupe.tools.gpu.specs import INSTALL_HINT

    assert pip_extra("gpu") == f"python3 -m pip install -e '{ROOT}[gpu]'" == INSTALL_HINT
    hints = [path for path in (ROOT / "loupe").rglob("*.py") if "pip install 'loupe[" in path.read_text()]
    assert hints == []
