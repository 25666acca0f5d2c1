"""HuggingGPT-style task lists, read into the same IR as VisProg text.

    [{"task": "object-detection", "id": 0, "dep": [-1], "args": {"image": "photo.jpg", "text": "dog"}},
     {"task": "visual-question-answering", "id": 1, "dep": [0],
      "args": {"image": "<GENERATED>-0", "text": "what is it doing?"}}]

Task names map to modules through one alias table (a module's own name works too). ``<GENERATED>-k``
and ``<resource>-k`` refer to task ``k``'s output; dependencies come from these references and are
checked against ``dep``; text that looks like a reference but is not one (``<GENERATED-0>``, ``<GENERATED>0``)
is an error that names the reference meant, never literal text. Named image files become the inputs IMAGE (one file) or LEFT and RIGHT (two;
files named left.* and right.* are LEFT and RIGHT whatever their order). ``loupe.programs.task_render``
writes a program as a task list.
The program ends with a RESULT of the last task that no other task uses; when several tasks are final (no
other task uses them), ``Program.notes`` says which one the program returns and where the others' values are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import re
from typing import Any

from loupe.programs.errors import Diagnostic, ProgramError, did_you_mean
from loupe.programs.ir import MODULE_ALIASES, Arg, Program, Ref, Span, Step, value_from_json


@dataclass(frozen=True)
class TaskAlias:
    """A task name's module, how its HuggingGPT argument names map to the module's, and defaults."""

    module: str
    rename: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)


_OBJECTS_IN = {"image": "image", "box": "object", "objects": "object", "mask": "object"}
TASK_ALIASES: dict[str, TaskAlias] = {
    "object-detection": TaskAlias("LOC", {"text": "object", "label": "object"}, {"object": "object"}),
    "zero-shot-object-detection": TaskAlias("LOC", {"text": "object", "label": "object"}),
    "visual-question-answering": TaskAlias("VQA", {"text": "question"}),
    "document-question-answering": TaskAlias("VQA", {"text": "question"}),
    "image-segmentation": TaskAlias("SEG"),
    "image-to-text": TaskAlias("CAPTION"),
    "image-captioning": TaskAlias("CAPTION"),
    "image-classification": TaskAlias("CLASSIFY", {**_OBJECTS_IN, "labels": "categories",
                                                   "text": "categories"}),
    "zero-shot-image-classification": TaskAlias("CLASSIFY", {**_OBJECTS_IN, "labels": "categories",
                                                             "text": "categories"}),
    "optical-character-recognition": TaskAlias("OCR"),
    "text-recognition": TaskAlias("OCR"),
    "face-detection": TaskAlias("FACEDET"),
    "object-counting": TaskAlias("COUNT", {"objects": "box", "object": "box", "image": "box"}),
    "object-selection": TaskAlias("SELECT", {**_OBJECTS_IN, "text": "query"}),
    "image-cropping": TaskAlias("CROP", {"box": "box", "object": "box"}),
    "image-inpainting": TaskAlias("REPLACE", {**_OBJECTS_IN, "text": "prompt"}),
    "object-replacement": TaskAlias("REPLACE", {**_OBJECTS_IN, "text": "prompt"}),
    "color-pop": TaskAlias("COLORPOP", _OBJECTS_IN),
    "background-blur": TaskAlias("BGBLUR", _OBJECTS_IN),
    "object-blur": TaskAlias("BLUR", _OBJECTS_IN),
    "emoji-overlay": TaskAlias("EMOJI", {**_OBJECTS_IN, "text": "emoji"}),
    "image-tagging": TaskAlias("TAG", _OBJECTS_IN),
    "knowledge-list": TaskAlias("LIST", {"text": "query"}),
}
_PREFIX = {"LOC": "BOX", "FACEDET": "OBJ", "SEG": "OBJ", "SELECT": "OBJ", "CLASSIFY": "OBJ", "OCR": "TEXT",
           "VQA": "ANSWER", "CAPTION": "TEXT", "COUNT": "ANSWER", "LIST": "LIST", "CROP": "IMAGE",
           "REPLACE": "IMAGE", "COLORPOP": "IMAGE", "BGBLUR": "IMAGE", "BLUR": "IMAGE", "EMOJI": "IMAGE",
           "TAG": "IMAGE"}
_OBJECT_MODULES = {"LOC", "FACEDET", "SEG", "SELECT", "CLASSIFY", "OCR"}
_OBJECT_ARGUMENT = {"COUNT": "box", "CROP": "box", "SELECT": "object", "CLASSIFY": "object",
                    "REPLACE": "object", "COLORPOP": "object", "BGBLUR": "object", "BLUR": "object",
                    "EMOJI": "object", "TAG": "object"}
_REFERENCE = re.compile(r"^<(?:GENERATED|resource)>-(\d+)$", re.IGNORECASE)
#: what a reference written wrongly still shows: the marker word next to an angle bracket
_LIKE_REFERENCE = re.compile(r"<\s*(GENERATED|resource)|(GENERATED|resource)\s*>", re.IGNORECASE)
MAX_TASKS = 100
MAX_DEPTH = 12
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_tasks(source: str | list, modules: list[str] | tuple[str, ...] = ()) -> Program:
    """Read a HuggingGPT task list (JSON text or a parsed list) into a ``Program``.

    ``modules``: module names that may be used directly as task names. Raises ``ProgramError``.
    """
    text = source if isinstance(source, str) else ""
    data = _decode(source)
    positions = _element_positions(text) if text.lstrip().startswith("[") else []
    problems: list[Diagnostic] = []
    tasks: dict[int, tuple[int, dict]] = {}
    for order, task in enumerate(data):
        span = positions[order] if order < len(positions) else Span(order + 1, 0)
        problem = _shape_problem(task, tasks)
        if problem:
            problems.append(Diagnostic(problem, span.line, span.column, f"task #{order}"))
            continue
        tasks[task["id"]] = (order, task)
    if problems:
        raise ProgramError(problems)
    steps, files, notes = _to_steps(tasks, positions, {m.upper() for m in modules}, problems)
    if problems:
        raise ProgramError(problems)
    return Program(tuple(steps), text, tuple(files.items()), tuple(notes))


def _decode(source) -> list:
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as error:
            raise ProgramError.at(f"task list is not valid JSON: {error.msg}", error.lineno, error.colno,
                                  suggestion='expected [{"task": ..., "id": 0, "dep": [-1], "args": {...}}]') from None
        except (ValueError, RecursionError) as error:  # too deep, or an integer too long to read
            raise ProgramError.at(f"task list is not usable JSON: {str(error)[:80]}") from None
    if _depth(source) > MAX_DEPTH:
        raise ProgramError.at(f"the task list nests lists and objects deeper than {MAX_DEPTH}")
    if isinstance(source, dict) and "task" in source:
        source = [source]
    if not isinstance(source, list) or not source:
        raise ProgramError.at("a task list is a non-empty JSON list of tasks",
                              suggestion='[{"task": "object-detection", "id": 0, "dep": [-1], "args": {...}}]')
    if len(source) > MAX_TASKS:
        raise ProgramError.at(f"the task list has {len(source)} tasks; the limit is {MAX_TASKS}")
    return source


def _depth(data) -> int:
    """How deeply lists and objects nest in ``data`` (without recursion)."""
    deepest, pending = 0, [(data, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_DEPTH:
                break
            pending += [(v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _shape_problem(task, seen: dict) -> str:
    if not isinstance(task, dict):
        return f"a task is a JSON object; got {type(task).__name__}"
    if not isinstance(task.get("task"), str):
        return "a task needs \"task\": the task name"
    if not isinstance(task.get("id"), int) or isinstance(task.get("id"), bool):
        return f"task {task['task']!r} needs an integer \"id\""
    if task["id"] in seen:
        return f"two tasks have the id {task['id']}"
    dep = task.get("dep", [-1])
    if not isinstance(dep, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in dep):
        return f"task {task['id']}: \"dep\" must be a list of task ids ([-1] for none)"
    if not isinstance(task.get("args", {}), dict):
        return f"task {task['id']}: \"args\" must be an object"
    return ""


def _to_steps(tasks: dict, positions: list[Span], modules: set[str], problems: list) -> tuple[list, dict]:
    names = {tid: _output_name(task, tid, modules) for tid, (_, task) in tasks.items()}
    files: dict[str, str] = {}
    built: dict[int, Step] = {}
    for tid in _topological(tasks, problems, positions):
        order, task = tasks[tid]
        span = positions[order] if order < len(positions) else Span(order + 1, 0)
        step = _step(task, names, tasks, files, span, modules, problems)
        if step is not None:
            built[tid] = step
    if len(set(files.values())) > 2:
        problems.append(Diagnostic(f"a task list may name at most two image files; it names {len(files)}"))
    files = _input_names(files)
    steps = [_rename_files(built[tid], files) for tid in _topological(tasks, [], positions) if tid in built]
    notes: list[str] = []
    if steps and not problems:
        used = {ref.name for s in steps for ref in s.refs()}
        leaves = [s for s in steps if s.output not in used]
        final = leaves[-1]
        steps.append(Step("FINAL_RESULT", "RESULT", (Arg("var", Ref(final.output)),), final.span, final.span))
        if len(leaves) > 1:
            notes.append(_leaves_note(leaves, names))
    return steps, {name: path for path, name in files.items()}, notes


def _leaves_note(leaves: list[Step], names: dict[int, str]) -> str:
    """Which of several final tasks the program returns (the last in order), and where the others' values are."""
    ids = {name: tid for tid, name in names.items()}
    shown = [f"{ids[s.output]} ({s.module}, {s.output})" for s in leaves]
    return (f"the task list has {len(leaves)} final tasks (no other task uses them): {', '.join(shown[:-1])} and "
            f"{shown[-1]}; it returns the last, task {ids[leaves[-1].output]} ({leaves[-1].output}); the "
            f"others' values are in the trace (each step's value, e.g. --json's steps)")


def _module(task_name: str, modules: set[str]) -> tuple[str, TaskAlias] | None:
    from loupe.programs.video_programs import VIDEO_TASK_ALIASES

    key = task_name.strip().lower().replace("_", "-").replace(" ", "-")
    alias = TASK_ALIASES.get(key) or VIDEO_TASK_ALIASES.get(key)
    if alias is not None:
        return alias.module, alias
    module = MODULE_ALIASES.get(task_name.upper(), task_name.upper())
    if module in modules:
        return module, TaskAlias(module)
    return None


def _output_name(task: dict, tid: int, modules: set[str]) -> str:
    found = _module(task["task"], modules) if isinstance(task.get("task"), str) else None
    return output_name(found[0] if found else "", tid)


def output_name(module: str, tid: int) -> str:
    """The variable a task list's task ``tid`` (of ``module``) writes, e.g. BOX0, ANSWER3, OUT4."""
    from loupe.programs.video_programs import VIDEO_PREFIX

    prefix = _PREFIX.get(module) or VIDEO_PREFIX.get(module, "OUT")
    return f"{prefix}{tid}" if tid >= 0 else f"{prefix}_{-tid}"


def _step(task, names, tasks, files, span: Span, modules, problems) -> Step | None:
    tid = task["id"]
    found = _module(task["task"], modules)
    if found is None:
        problems.append(Diagnostic(f"unknown task {task['task']!r}", span.line, span.column, task["task"],
                                   did_you_mean(task["task"], list(TASK_ALIASES) + sorted(modules), "tasks")))
        return None
    module, alias = found
    args: dict[str, Any] = {}
    referenced: set[int] = set()
    for key, raw in task.get("args", {}).items():
        name = alias.rename.get(key, key)
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
            problems.append(Diagnostic(f"task {tid}: argument name {name!r} is not a name", span.line,
                                       span.column, str(name), "use letters, digits and _, e.g. image"))
            continue
        try:
            args[name] = _value(raw, names, files, referenced)
        except (ValueError, KeyError) as error:
            problems.append(Diagnostic(f"task {tid}: argument {key}: {error}", span.line, span.column))
    declared = {d for d in task.get("dep", [-1]) if d != -1}
    if tid in referenced | declared:
        problems.append(Diagnostic(f"task {tid} depends on its own output", span.line, span.column,
                                   suggestion="a task can only use the outputs of other tasks"))
    for missing in sorted(referenced - declared):
        problems.append(Diagnostic(f"task {tid} uses the output of task {missing}, but its dep "
                                   f"{task.get('dep', [-1])} does not list {missing}", span.line, span.column,
                                   suggestion=f"add {missing} to dep"))
    for unknown in sorted(declared - set(tasks)):
        problems.append(Diagnostic(f"task {tid} depends on task {unknown}, which does not exist",
                                   span.line, span.column))
    args = _objects_from_image(module, args, tasks, names, modules)
    args.update({k: v for k, v in alias.defaults.items() if k not in args})
    return Step(names[tid], module, tuple(Arg(k, v, span, span) for k, v in args.items()), span, span)


def _value(raw, names: dict[int, str], files: dict[str, str], referenced: set[int]):
    from loupe.programs.video_programs import looks_like_video_file  # a named video file is the input VIDEO

    if isinstance(raw, str):
        match = _REFERENCE.match(raw.strip())
        if match:
            tid = int(match.group(1))
            if tid not in names:
                raise ValueError(f"{raw} refers to task {tid}, which does not exist")
            referenced.add(tid)
            return Ref(names[tid])
        if _LIKE_REFERENCE.search(raw):
            raise ValueError(f"{raw!r:.60} is not a reference to a task's output; {_reference_meant(raw)}")
        if looks_like_video_file(raw):
            return Ref("VIDEO")
        if _looks_like_image_file(raw):
            files.setdefault(raw, raw)
            return Ref("\0file:" + raw)
        return raw
    if isinstance(raw, list):
        return tuple(_value(item, names, files, referenced) for item in raw)
    return value_from_json(raw)


def _reference_meant(raw: str) -> str:
    """The suggestion for text that looks like a reference: the one it most likely meant."""
    marker = _LIKE_REFERENCE.search(raw)
    word = (marker.group(1) or marker.group(2)) if marker else "GENERATED"
    number = re.search(r"\d+", raw)
    if number:
        return f"did you mean '<{word}>-{int(number.group())}'?"
    return f"write '<{word}>-k', with k the id of the task whose output it is"


def _objects_from_image(module: str, args: dict, tasks: dict, names: dict, modules: set[str]) -> dict:
    """HuggingGPT passes a detection task's output as ``image``: give it to ``object`` (or ``box``) and
    use that task's own image as ``image``."""
    image = args.get("image")
    producer = next((t for _, t in tasks.values() if isinstance(image, Ref) and names[t["id"]] == image.name), None)
    found = _module(producer["task"], modules) if producer is not None else None
    if found is None or found[0] not in _OBJECT_MODULES:
        return args
    target = _OBJECT_ARGUMENT.get(module)
    args = dict(args)
    if target:
        args.setdefault(target, image)
    if module == "COUNT":
        args.pop("image", None)
    else:
        args["image"] = _image_behind(producer, tasks, names, modules)
    return args


def _image_behind(task: dict, tasks: dict, names: dict, modules: set[str], depth: int = 0) -> Ref:
    """The image a task's objects were found in: follow ``<GENERATED>-k`` back through object tasks
    (SEG -> SELECT -> ...) to a named file or an image-producing task; the input IMAGE otherwise."""
    source = task.get("args", {}).get("image")
    if isinstance(source, str) and _looks_like_image_file(source):
        return Ref("\0file:" + source)
    match = _REFERENCE.match(source.strip()) if isinstance(source, str) else None
    if match and int(match.group(1)) in tasks and depth < MAX_TASKS:
        earlier = tasks[int(match.group(1))][1]
        found = _module(earlier["task"], modules) if isinstance(earlier.get("task"), str) else None
        if found and found[0] in _OBJECT_MODULES:
            return _image_behind(earlier, tasks, names, modules, depth + 1)
        return Ref(names[earlier["id"]])
    return Ref("IMAGE")


def _looks_like_image_file(text: str) -> bool:
    return bool(re.search(r"\.(jpe?g|png|gif|bmp|webp|tiff?)$", text.strip(), re.IGNORECASE))


def _input_names(files: dict[str, str]) -> dict[str, str]:
    """Files named left.* / right.* are LEFT / RIGHT; otherwise one file is IMAGE and two are LEFT and
    RIGHT in the order they first appear."""
    paths = list(dict.fromkeys(files))
    sides = {path: _stem(path).upper() for path in paths if _stem(path) in ("left", "right")}
    if sides and len(set(sides.values())) == len(sides) and (len(paths) == 1 or len(sides) == len(paths)):
        return sides
    if len(paths) == 1:
        return {paths[0]: "IMAGE"}
    return dict(zip(paths, ("LEFT", "RIGHT")))


def _stem(path: str) -> str:
    return re.sub(r"\.[A-Za-z]+$", "", path.strip().replace("\\", "/").rsplit("/", 1)[-1]).lower()


def _rename_files(step: Step, files: dict[str, str]) -> Step:
    def rename(value):
        if isinstance(value, Ref) and value.name.startswith("\0file:"):
            return Ref(files.get(value.name[6:], "IMAGE"), value.span)
        if isinstance(value, tuple):
            return tuple(rename(v) for v in value)
        return value

    args = tuple(Arg(a.name, rename(a.value), a.span, a.value_span) for a in step.args)
    return Step(step.output, step.module, args, step.span, step.module_span)


def _topological(tasks: dict, problems: list, positions: list[Span]) -> list[int]:
    """Task ids in an order where each comes after the tasks it references or depends on."""
    def needs(task) -> set[int]:
        found: set[int] = set()
        for raw in _strings(task.get("args", {})):
            match = _REFERENCE.match(raw.strip())
            if match:
                found.add(int(match.group(1)))
        return {d for d in found | set(task.get("dep", [])) if d in tasks and d != task["id"]}

    order: list[int] = []
    state: dict[int, str] = {}

    def visit(tid: int, trail: list[int]):
        if state.get(tid) == "done":
            return
        if state.get(tid) == "visiting":
            cycle = " -> ".join(str(t) for t in trail[trail.index(tid):] + [tid])
            if not any("cycle" in p.message for p in problems):
                problems.append(Diagnostic(f"the tasks depend on each other in a cycle: {cycle}"))
            return
        state[tid] = "visiting"
        for dep in sorted(needs(tasks[tid][1])):
            visit(dep, trail + [tid])
        state[tid] = "done"
        order.append(tid)

    for tid in sorted(tasks, key=lambda t: tasks[t][0]):
        visit(tid, [])
    return order


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _element_positions(text: str) -> list[Span]:
    """Line and column where each element of the top-level JSON list starts."""
    spans, depth, in_string, escaped, expecting, line, column = [], 0, False, False, False, 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
            continue
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if expecting and not char.isspace() and char != "]":
            spans.append(Span(line, column))
        expecting = expecting and char.isspace()
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            expecting = depth == 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 1:
            expecting = True
    return spans
