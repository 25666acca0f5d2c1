"""Did the chosen program use every word of the request, and can the tools answer it at all?

``assess(reading, program, affordance)`` compares a request's reading (``loupe.agent.planning.reading``) with the
program that will answer it, whichever planner made it (ranked, generated, cached, SayCan's):

- each *content word* of the request's main clause is used by the program (an object it locates, a colour
  or phrase it selects, a number or comparison its EVAL makes, a negation, a relation or region, a text
  target it reads) or listed in ``unused``; ``changing`` are the unused words that could change the answer
  (objects, colours and other attributes, numbers, comparisons, negations, relations, predicates such as
  'sleeping'); a place a thing stands in ('on the grass') is listed but does not change a count;
- ``unsupported`` says why the tools cannot answer at all: a step the installed tier cannot run (a tool's
  affordance of 0 for its arguments), a program whose answer is of another kind than the question asks (a
  caption or a count for 'what breed is the dog?'), a question about a property of one thing ('is the man
  smiling?') whose property no step checks, an edit request answered with no edit, or, where these rules are
  not sure (a word no rule maps onto a tool; not a question about text the program reads) and the installed
  VQA cannot take the question as asked, a
  question whose meaning is closer to what only an open-question model answers (``loupe.agent.planning.scope``).

The agent turns these into the run's status: ``unsupported`` (nothing run, the reason and what would
answer), ``partial`` (the answer, and what of the request it did not use), or ``ok``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loupe.agent.planning.query_facts import NEGATIONS, NUMBER_WORDS, TEXT_WORDS, lookup, read_query
from loupe.agent.planning.reading import COLOURS, Reading, lexicon
from loupe.agent.planning.scope import judge
from loupe.programs.ir import Arg, Program, Ref, Step
from loupe.programs.values import ValueType
from loupe.tools.vocabulary import coco_class, group_classes, means_face, singular
from loupe.tools.install import pip_extra

OPEN_QUESTION_TOOLS = frozenset({"VQA", "CAPTION", "CLASSIFY"})
ANSWER_HINT = (f"an open-question model would answer it: the GPU tier's VQA ({pip_extra('gpu')}) or a "
               "local multimodal model (--vlm ollama:llava, or the URL of an OpenAI-compatible server; docs/vlm.md)")
DETECTOR_HINT = f"the GPU tier's open-vocabulary detector (OWLv2) finds any named object ({pip_extra('gpu')})"
_FUNCTION = frozenset(lexicon()["coverage_function_words"])   # words that name nothing the program must use
_COMPARATIVE = frozenset(lexicon()["comparison_words"])
_SPATIAL = frozenset(lexicon()["spatial_words"])
_LOCATIVE = frozenset(lexicon()["place_prepositions"])
_UNSURE = frozenset({"predicate", "text"})   # content words no rule maps onto a tool for sure (a text word is
#   sure when the program reads text: what is written answers a question about a name, a time or a brand)
_NUMBER_WORDS = {word: value for word, value in NUMBER_WORDS.items() if value is not None}
_TYPE_OF_RESULT = {"COUNT": "number", "OCR": "text", "PICK_TEXT": "text", "VQA": "text", "CAPTION": "caption",
                   "CLASSIFY": "text", "LIST": "text"}


class InstalledTools:
    """What the installed registry says of a step: its tool's affordance (0..1) for the step's literal
    arguments (each judgement remembered: it does not change within a session) and whether it returns an image."""

    def __init__(self, registry):
        self.registry = registry
        self._judged: dict[tuple, float] = {}

    def affordance(self, step) -> float:
        literals = {a.name: a.value for a in step.args if not hasattr(a.value, "name")}
        if step.module == "RESULT" or not literals or step.module not in self.registry:
            return 1.0
        key = (step.module, repr(sorted(literals.items())))
        if key not in self._judged:
            self._judged[key] = self.registry.tool(step.module).affordance(literals)
        return self._judged[key]

    def answers_open(self, question: str) -> bool:
        """Whether the installed VQA answers ``question`` as asked (the GPU tier's, or a question the lite
        tier's patterns read): then no question is beyond the tier."""
        if "VQA" not in self.registry:
            return False
        return self.affordance(Step("ANSWER0", "VQA", (Arg("image", Ref("IMAGE")), Arg("question", question)))) > 0

    def returns_image(self, module: str) -> bool:
        """Whether the module's output is an image (an edit, a crop)."""
        return module in self.registry and self.registry.tool_class(module).output is ValueType.IMAGE


@dataclass(frozen=True)
class Coverage:
    """``unused``: content words no step uses; ``changing``: those of them that could change the answer;
    ``unsupported``: why the tools cannot answer the request (empty when they can); ``notes``: how words outside
    the vocabulary were read ("read 'jogger' as person"), for the user to see."""

    unused: tuple[str, ...] = ()
    changing: tuple[str, ...] = ()
    unsupported: str = ""
    notes: tuple[str, ...] = ()
    guessed: bool = False   # a word was read by its meaning alone: the answer rests on a guess the notes name

    @property
    def status(self) -> str:
        return "unsupported" if self.unsupported else "partial" if self.changing or self.guessed else "ok"

    def reason(self) -> str:
        if self.unsupported:
            return self.unsupported
        said = list(self.notes)
        if self.changing:
            said.insert(0, "not used: " + ", ".join(repr(w) for w in self.changing) +
                        " (the answer does not take these words into account)")
        return "; ".join(said)

    def as_dict(self) -> dict:
        return {"status": self.status, "unused": list(self.unused), "changing": list(self.changing),
                "reason": self.reason(), "notes": list(self.notes)}


def result_type(program: Program, returns_image) -> str:
    """What ``program`` returns: number | yesno | text | caption | image (``returns_image(module)``: whether
    that module's output is an image)."""
    by_output = {s.output: s for s in program.steps}
    last = program.steps[-1] if program.steps else None
    if last is not None and last.module == "RESULT":
        ref = next((a.value for a in last.args if isinstance(a.value, Ref)), None)
        last = by_output.get(ref.name) if ref is not None else None
    if last is None:
        return "text"
    if returns_image(last.module):
        return "image"
    if last.module == "EVAL":
        expr = str(next((a.value for a in last.args if a.name == "expr"), ""))
        if "'yes'" in expr or '"yes"' in expr:
            return "yesno"
        return "number" if re.search(r"[+\-]", expr) or re.fullmatch(r"\{\w+\}", expr.strip()) else "text"
    return _TYPE_OF_RESULT.get(last.module, "text")


def _literals(program: Program) -> tuple[set[str], set[str], str]:
    """(words of every string argument, modules, the EVAL expressions joined)."""
    words: set[str] = set()
    exprs = []
    for step in program.steps:
        for arg in step.args:
            if isinstance(arg.value, Ref) and arg.value.name in ("LEFT", "RIGHT"):
                words.add(arg.value.name.lower())   # the two images a statement compares
            elif isinstance(arg.value, str):
                if step.module == "EVAL":
                    exprs.append(arg.value)
                else:
                    words |= set(re.findall(r"[a-z0-9]+", arg.value.lower()))
    return words, {s.module for s in program.steps}, " ".join(exprs)


def _word_used(word: str, words: set[str], modules: set[str], exprs: str, reading: Reading,
               read_as: dict[str, str]) -> bool:
    named = lexicon()["module_words"]
    if any(word in named.get(module, ()) for module in modules):
        return True   # the word names the operation a step makes ('pop', 'background', 'smiley')
    base = singular(word)
    if word in words or base in words or base + "s" in words:
        return True
    cls = coco_class(word) or (lookup(word) or (None,))[0] or read_as.get(word)
    if cls and set(cls.split()) <= words:
        return True
    if group_classes(word) and (word in words or base in words):
        return True
    if means_face(word) or word in ("face", "faces"):
        return bool({"FACEDET"} & modules) or "face" in words
    if word in TEXT_WORDS:
        return bool({"OCR", "PICK_TEXT"} & modules)
    if word in NEGATIONS:
        return "== 0" in exprs or " not " in f" {exprs} " or "!=" in exprs or "<" in exprs
    if word.isdigit() or word in _NUMBER_WORDS:
        value = int(word) if word.isdigit() else _NUMBER_WORDS[word]
        return re.search(rf"\b{value}\b", exprs) is not None or str(value) in words
    if word in _COMPARATIVE:
        return bool(re.search(r"[<>]|==|\+|-", exprs))
    if word in ("next", "beside", "near", "around", "by") and "CROP" in modules:
        return True   # the program looks around the object (a crop of its surroundings)
    if word in _SPATIAL:
        return word.upper() in {w.upper() for w in words} or any(m.startswith("CROP_") for m in modules)
    if word in COLOURS and reading.answer in ("colour", "choice"):
        return "VQA" in modules   # the colour is compared with the one the program names
    return False


def content_words(reading: Reading) -> list[tuple[int, str, str]]:
    """(position, word, kind) of the clause's content words; kind: object | colour | number | negation |
    comparison | spatial | text | predicate | setting | verb."""
    lex = lexicon()
    words = list(reading.words)
    neutral = lex["neutral_predicates"]
    found = []
    joined = _multiword_positions(words)
    for index, word in enumerate(words):
        if index in joined:
            if joined[index]:
                found.append((index, joined[index], "setting" if _after_locative(words, index) else "object"))
            continue
        if _belonging(words, index, reading):
            found.append((index, word, "predicate"))
            continue
        if word == "," or (word in _FUNCTION and word not in NEGATIONS | _COMPARATIVE | _SPATIAL
                           and word not in _NUMBER_WORDS):
            continue
        if index == 0 and reading.act == "edit":
            continue  # the edit verb: judged by whether the program edits at all
        if reading.describes and any(word in cue for cue in lex["describe_cues"]):
            continue
        if word in ("how", "many", "much") or word in lex["wh_starts"] or word in lex["yes_no_starts"] \
                or any(word in cue for cue in lex["count_cues"]) or word in lex["text_cues"]:
            continue   # words that say what kind of answer is wanted, not what it is about
        if word in NEGATIONS:
            found.append((index, word, "negation"))
        elif word.isdigit() or (word in _NUMBER_WORDS and not _pronoun_one(words, index)):
            found.append((index, word, "number"))
        elif word in _COMPARATIVE:
            found.append((index, word, "comparison"))
        elif word in _SPATIAL:
            found.append((index, word, "spatial"))
        elif word in COLOURS:
            found.append((index, word, "colour"))
        elif word in TEXT_WORDS:
            found.append((index, word, "text"))
        elif word in neutral or word in lex["edit_verbs"] or word in ("rid", "out", "away", "off", "up", "down") \
                or (reading.act == "edit" and (lex["gerunds"].get(word) or lex["participles"].get(word))
                    in lex["edit_verbs"]):
            continue   # 'hide the faces by blurring them': the edit's own verb, judged by whether it edits
        elif coco_class(word) or group_classes(word) or means_face(word):
            found.append((index, word, "setting" if _after_locative(words, index) else "object"))
        elif (_after_locative(words, index) or _the_scene(words, index)) and not word.endswith(("ing", "ed")):
            found.append((index, word, "setting"))
        else:
            found.append((index, word, "predicate"))
    return found


_POSSESSIVES = frozenset({"my", "your", "his", "her", "their", "our", "whose"})


def _belonging(words, index, reading: Reading) -> bool:
    """'is that their dog', 'is this your car': a question whether something belongs to someone (a possessive
    right after the thing pointed at); no program of the tier checks whose a thing is."""
    return reading.act == "question" and words[index] in _POSSESSIVES and 0 < index and \
        words[index - 1] in ("this", "that", "it", "these", "those") and words[0] in lexicon()["yes_no_starts"]


def _multiword_positions(words) -> dict[int, str]:
    """Positions inside a known name of two or three words ('tennis player', 'wine glass'): the first maps to
    the class it names, the others to ''."""
    taken: dict[int, str] = {}
    for size in (3, 2):
        for start in range(len(words) - size + 1):
            span = range(start, start + size)
            if any(i in taken for i in span) or any(w in _FUNCTION for w in words[start:start + size]):
                continue
            found = lookup(" ".join(words[start:start + size]))
            if found:
                taken.update({i: "" for i in span})
                taken[start] = found[0]
    return taken


def _pronoun_one(words, index) -> bool:
    return words[index] == "one" and (index == 0 or words[index - 1] in ("the", "this", "that", "which", "each",
                                                                         "every", "no", "any", "other"))


def _the_scene(words, index) -> bool:
    """'this kitchen', 'this run down bathroom': a noun the photo itself is named by (a demonstrative before it)."""
    before = words[max(0, index - 3):index]
    return any(w in ("this", "these") for w in before) and not coco_class(words[index])


def _after_locative(words, index) -> bool:
    before = [w for w in words[max(0, index - 4):index] if w not in ("the", "a", "an", "this", "that", "some")]
    while before and before[-1] not in _LOCATIVE and not coco_class(before[-1]) and before[-1] not in _FUNCTION:
        before.pop()  # adjectives: 'on the green grass'
    return bool(before) and before[-1] in _LOCATIVE


def assess(reading: Reading, program: Program, tools: InstalledTools) -> Coverage:
    """The coverage of ``reading`` by ``program`` on the installed ``tools`` (see the module docstring)."""
    words, modules, exprs = _literals(program)
    for step in program.steps:
        if step.module in OPEN_QUESTION_TOOLS and tools.affordance(step) <= 0.0:
            # a question only an open-question model answers; a phrase the detector or SELECT cannot
            # ground is left to the run, whose failure the planner replans (a simpler phrase, the head noun)
            return Coverage(unsupported=_beyond(reading) or _cannot(step))
    produced = result_type(program, tools.returns_image)
    wanted = reading.answer
    if wanted == "image" and produced != "image":
        return Coverage(unsupported="no edit the installed tools can make was found for this request")
    asks = bool(reading.words) and (reading.words[0] in lexicon()["wh_starts"] | lexicon()["yes_no_starts"])
    if wanted != "image" and produced == "image" and asks:
        return Coverage(unsupported="the request asks a question, but the only program found edits the photo")
    if "CAPTION" in modules and not reading.describes:
        return Coverage(unsupported=_beyond(reading) or "the installed tools cannot answer this question (a caption "
                                    "of the photo would not answer it); " + ANSWER_HINT)
    if wanted in ("text", "colour", "choice") and produced in ("number", "yesno"):
        return Coverage(unsupported=_beyond(reading) or "the installed tools cannot answer this kind of question "
                                    "(only counts and yes/no about the objects they find); " + ANSWER_HINT)
    unused, changing, objects_used = [], [], 0
    read = [m for m in read_query(reading.clause).mentions if m.read_as]   # 'a jogger' read as a person
    read_as = {m.text: m.name for m in read}
    kinds = [(i, w, "object" if w in read_as else kind) for i, w, kind in content_words(reading)]
    for _, word, kind in kinds:
        if _word_used(word, words, modules, exprs, reading, read_as):
            objects_used += kind == "object"
            continue
        unused.append(word)
        if kind != "setting":
            changing.append(word)
    reads = bool({"OCR", "PICK_TEXT"} & modules) and any(kind == "text" for _, _, kind in kinds)
    if reading.act == "question" and not reads and (unused or any(kind in _UNSURE for _, _, kind in kinds)) \
            and not tools.answers_open(reading.clause):
        beyond = _beyond(reading)   # the rules are not sure: compare the meaning with the tier's scope
        if beyond:
            return Coverage(tuple(unused), tuple(changing), beyond)
    things = [w for _, w, kind in kinds if kind in ("object", "predicate") and w in unused
              and not (coco_class(w) or lookup(w) or group_classes(w) or means_face(w))]   # none the detector knows
    if wanted in ("number", "yesno") and reading.act == "question" and not objects_used and things \
            and {"LOC", "FACEDET"} & modules:
        # no thing the question names is used, nor known ('how many decks': a replan counted faces instead)
        return Coverage(tuple(unused), tuple(changing), "the installed detector does not know " +
                        ", ".join(repr(w) for w in things) + "; " + DETECTOR_HINT)
    if changing and wanted == "yesno" and objects_used <= 1 and _about_one_thing(reading):
        return Coverage(tuple(unused), tuple(changing),
                        "the installed tools cannot check " + ", ".join(repr(w) for w in changing) +
                        " about it; " + ANSWER_HINT)
    notes = tuple(dict.fromkeys(f"read {m.text!r} as {m.name}" + (" (a guess from its meaning)" if m.read_as == "meaning"
                                                                 else "") for m in read if m.text not in unused))
    guessed = any(m.read_as == "meaning" and m.text not in unused for m in read)
    return Coverage(tuple(unused), tuple(changing), notes=notes, guessed=guessed)


def _beyond(reading: Reading) -> str:
    """The refusal of a question whose meaning lies beyond the tier (``loupe.agent.planning.scope``: what it asks
    about, and what would answer), or '' when it does not or no embedding model is installed."""
    judged = judge(reading.clause) if reading.act == "question" else None
    if judged is None or not judged.is_beyond():
        return ""
    return f"the installed tools cannot tell {judged.says}; " + ANSWER_HINT


def _about_one_thing(reading: Reading) -> bool:
    """'is the man smiling?', 'is this dog a puppy?': a question about a property of one named thing (an object
    the detector knows; 'does this kitchen have a fridge?' asks about the photo's scene, not a kitchen's property)."""
    words = reading.words
    return len(words) > 2 and words[0] in lexicon()["yes_no_starts"] and words[1] in (
        "the", "this", "that", "his", "her", "its", "their") and bool(coco_class(words[2]) or lookup(words[2]))


def _cannot(step) -> str:
    literals = ", ".join(f"{a.name}={a.value!r}" for a in step.args if isinstance(a.value, str))
    if step.module == "LOC":
        return f"the installed detector does not know {literals}; {DETECTOR_HINT}"
    if step.module in ("VQA", "CLASSIFY", "CAPTION"):
        return "the installed tools cannot answer this question; " + ANSWER_HINT
    return f"{step.module} cannot run with {literals} on the installed tier"
