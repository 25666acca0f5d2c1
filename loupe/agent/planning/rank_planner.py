"""The ranking planner: a small model *chooses* among typed, filled programs instead of writing one.

For a question it reads the facts (``loupe.agent.planning.query_facts``), fills every sketch (``loupe.agent.planning.sketches``, from
the curated library and the program cache's learned programs) in every typed way the question allows
(``loupe.agent.planning.sketch_fill``), and keeps at most ``max_candidates`` programs that check (each filled
``Program`` is checked as it is; its text is rendered only for the LM, the ranking shown and
``Ranked.program``). Each gets

    prior      = structure (what of the question it leaves unused, what it assumes that the question does
                 not say) + W_RETRIEVAL x similarity of the question to the sketch's instructions
                 + log(affordance) (the tools' own judgement of the filled arguments, as SayCan)
                 + W_INTENT x (meaning similarity of the main clause to the sketch's instructions, sentence
                   embeddings, ``loupe.agent.planning.embeddings``; only between close contenders, relative to the
                   closest, so the model loads only where the rules leave the choice open)
    total      = prior + W_LM x (length-normalised log p(program | question)
                                 + length-normalised log p(question | program))

The LM terms come from one batched scoring pass (``LLM.score_split``) over the candidates whose prior is
within ``lm_margin`` of the best (at most ``lm_top``; none when one candidate stands alone); a replan and SayCan's
skill prior weigh those within ``WIDE_MARGIN``. The margin is narrow (0.5) because the intent term separates most contenders: on our dev
set the ranked programs equal the oracle's 33 of 39 times with it against 29 with the LM over a 2.5 margin, with
3 LM passes instead of 26 (BENCHMARKS.md). When no
candidate fills, or the best total is under ``threshold``, the planner generates a program as
``ProgramPlanner`` does. A ranked program that fails at run time is replanned from the ranking and the
failed step's record (``loupe.agent.planning.rank_replan``).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

from loupe.agent.llm.base import split_scores
from loupe.agent.planning.planner import Draft, ProgramPlanner, input_types
from loupe.agent.planning.coverage import InstalledTools
from loupe.agent.planning.embeddings import embed
from loupe.agent.planning.reading import lexicon, read_request
from loupe.agent.planning.query_facts import COLOURS, NEGATIONS, read_query
from loupe.agent.planning.rank_replan import absent, choose
from loupe.agent.planning.sketch_fill import fillings
from loupe.agent.planning.sketches import sketches_from
from loupe.programs.checker import check
from loupe.programs.errors import ProgramError
from loupe.programs.ir import Program, Ref
from loupe.programs.render import placed
from loupe.tools.replace import is_removal
from loupe.tools.vocabulary import singular

W_RETRIEVAL = 3.0
W_INTENT = 2.0
WIDE_MARGIN = 2.5   # a replan and SayCan's skill prior weigh more contenders with the LM: their cost is paid rarely
W_LM = 1.0
W_AFFORDANCE = 0.5
AFFORDANCE_FLOOR = 0.05
RANK_HEADER = "Programs of vision tools, each with the question it answers.\n\n"
_PENALTY = {"objects": 2.5, "faces": 2.0, "numbers": 1.5, "comparisons": 1.5, "regions": 1.5,
            "faces_as_objects": 3.0}
_RELATION_MODULES = ("CROP_LEFTOF", "CROP_RIGHTOF", "CROP_ABOVE", "CROP_BELOW")


@dataclass(frozen=True)
class Ranked:
    """One scored candidate (see the module docstring for the terms): ``program`` its text, ``ir`` the
    checked ``Program`` itself (with the spans of that text)."""

    program: str
    gist: str
    sketch: str
    structure: float
    retrieval: float
    affordance: float
    intent: float = 0.0   # W_INTENT's similarity, relative to the closest contender (<= 0); 0 when not judged
    lm_direct: float | None = None
    lm_channel: float | None = None
    total: float = 0.0
    values: tuple = ()
    ir: Program | None = field(default=None, compare=False, repr=False)
    instructions: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def prior(self) -> float:
        return self.structure + W_RETRIEVAL * self.retrieval + W_INTENT * self.intent + \
            W_AFFORDANCE * math.log(max(self.affordance, AFFORDANCE_FLOOR))

    def as_dict(self) -> dict:
        return {"program": self.program, "gist": self.gist, "sketch": self.sketch,
                "structure": round(self.structure, 3), "retrieval": round(self.retrieval, 3),
                "affordance": round(self.affordance, 3), "intent": round(self.intent, 3),
                "lm_direct": None if self.lm_direct is None else round(self.lm_direct, 3),
                "lm_channel": None if self.lm_channel is None else round(self.lm_channel, 3),
                "total": round(self.total, 3)}


class RankPlanner(ProgramPlanner):
    """``plan(query, two_images) -> Plan`` like ``ProgramPlanner``; ``rank`` shows the scored candidates."""

    def __init__(self, llm, registry, retriever, examples_k: int = 6, cache=None, max_candidates: int = 64,
                 lm_top: int = 4, lm_margin: float = 0.5, threshold: float = -7.0, **options):
        super().__init__(llm, registry, retriever, examples_k, **options)
        self.cache, self.max_candidates, self.lm_top, self.lm_margin = cache, max_candidates, lm_top, lm_margin
        self.threshold = threshold
        self._library = sketches_from(((e.instruction, e.program, e.id) for e in retriever.examples), registry)
        self._header = RANK_HEADER + "".join(
            f"Program: {gist_of(e.program)}\nQuestion: {e.instruction}\n\n"
            for e in _header_examples(retriever.examples))

    def sketches(self):
        learned = self.cache.learned() if self.cache is not None and hasattr(self.cache, "learned") else []
        return self._library + sketches_from(learned, self.registry) if learned else self._library

    def rank(self, query: str, two_images: bool = False, lm: bool = True, margin: float | None = None) -> list[Ranked]:
        """Every checked candidate, best first (intent and LM terms only on the contenders within ``margin``,
        default ``lm_margin``, of the best; none without ``lm``: then ``total`` is the prior)."""
        margin = self.lm_margin if margin is None else margin
        reading = read_request(query)
        facts = read_query(reading.clause, two_images)
        facts.extra["reading"] = reading
        similarity = self._similarities(reading.clause)
        found: dict[str, Ranked] = {}
        for sketch in self.sketches():
            retrieval = max((similarity.get(i, 0.0) for i in sketch.ids), default=0.0) or \
                _overlap(reading.clause, sketch.instructions)
            for filled in fillings(sketch, facts, two_images):
                structure = _structure(sketch, filled, facts)
                program = _placed(filled.program)
                if program is None:
                    continue
                text = program.source
                candidate = Ranked(text, gist_of(text), (sketch.ids or sketch.instructions)[0], structure,
                                   retrieval, 1.0, values=filled.values, ir=program,
                                   instructions=tuple(sketch.instructions))
                if text not in found or candidate.prior > found[text].prior:  # the sketch that fits it best
                    found[text] = candidate
        ranked = sorted(found.values(), key=lambda r: -r.prior)[: self.max_candidates]
        ranked = [r for r in (self._checked(r, two_images) for r in ranked) if r is not None]
        if answer_type(facts) == "image":
            ranked = self._within_edits(ranked)
        ranked = self._with_intent(reading.clause, sorted(ranked, key=lambda r: -r.prior)[: self.max_candidates],
                                   margin)
        return self._with_lm(query, ranked, margin) if lm else [replace(r, total=r.prior) for r in ranked]

    def draft(self, query: str, two_images: bool = False) -> Draft:
        ranked = self.rank(query, two_images)
        shown = tuple(r.as_dict() for r in ranked[:5])
        if not ranked or ranked[0].total < self.threshold:
            generated = super().draft(query, two_images)
            return replace(generated, ranking=shown)
        calls = sum(1 for r in ranked if r.lm_direct is not None) and 1
        return Draft(self._header, ranked[0].program, "", calls and len(self._header) // 4,
                     (ranked[0].sketch,), ranking=shown)

    def replan(self, draft: Draft, failed: Sequence[Mapping], query: str, two_images: bool = False) -> Draft | None:
        """After a ranked program failed at run time (``failed``: the failed steps' records, as the graph's
        ``failed_steps``): the next candidate ``loupe.agent.planning.rank_replan.choose`` gives (the same sketch with
        the failed phrase made simpler first; never a program that runs the blamed step again; for an edit,
        only programs making the same edits); with none, a generated program, or None for an edit or a thing
        found not there (nothing else would make it, or answer about it: the failure stands). A generated program that failed is replanned as
        ``ProgramPlanner`` does."""
        if not draft.prompt.startswith(RANK_HEADER):
            return super().replan(draft, failed, query, two_images)
        ranked = self.rank(query, two_images, margin=max(self.lm_margin, WIDE_MARGIN))
        floor = self.threshold if failed else max((ranked[0].total if ranked else 0.0) - self.lm_margin,
                                                  self.threshold)
        writes = self._writes_image
        others = choose(draft.text, failed, ranked, floor, writes)
        if others:
            return Draft(draft.prompt, others[0].program, "", 0, (others[0].sketch,),
                         ranking=tuple(r.as_dict() for r in others[:5]))
        modules = {step.module for step in self.parse(draft.text).steps}
        if any(writes(module) for module in modules) or (absent(failed) and "OCR" not in modules):
            return None   # an edit only these programs make, or a thing not there: the failure stands
        return super().draft(query, two_images)

    def redraft(self, draft: Draft, errors, query: str, two_images: bool = False) -> Draft:
        """A repair: of a ranked program, the replan's choice (or a generated program); else as
        ``ProgramPlanner`` repairs."""
        if not draft.prompt.startswith(RANK_HEADER):
            return super().redraft(draft, errors, query, two_images)
        return self.replan(draft, (), query, two_images) or super().draft(query, two_images)

    def _writes_image(self, module: str) -> bool:
        return module in self.registry and self.registry.tool_class(module).writes_image

    # ---- internals --------------------------------------------------------------------------------

    def _similarities(self, query: str) -> dict[str, float]:
        try:
            return {e.id: s for e, s in self.retriever.scores(query)}
        except Exception:  # retrieval is a prior only; without scikit-learn the word overlap stands in
            return {}

    def _checked(self, ranked: Ranked, two_images: bool) -> Ranked | None:
        try:
            checked = check(ranked.ir, self.registry, input_types(two_images))
        except ProgramError:
            return None
        return replace(ranked, affordance=self._affordance(checked.program))

    def _affordance(self, program) -> float:
        """The product of the steps' affordances for their literal arguments (SayCan's value function)."""
        tools = self.__dict__.setdefault("_tools", InstalledTools(self.registry))
        return math.prod(tools.affordance(step) for step in program.steps)

    def _within_edits(self, ranked: list[Ranked]) -> list[Ranked]:
        """For an edit, the tools' affordance chooses among programs making the same edits (recolouring
        over painting with the lite tier's REPLACE) but never turns the request into another edit: each
        program's affordance is taken relative to the best of the programs making its edits, so that an edit
        this tier cannot make is refused with its reason, not swapped for one nobody asked for (tagging the
        dog when asked to paint a cat over it)."""
        edits = [frozenset(s.module for s in r.ir.steps if self._writes_image(s.module)) for r in ranked]
        best: dict[frozenset, float] = {}
        for r, made in zip(ranked, edits):
            best[made] = max(best.get(made, 0.0), r.affordance)
        return [replace(r, affordance=r.affordance / best[made] if best[made] > 0 else 1.0)
                for r, made in zip(ranked, edits)]

    def _with_intent(self, clause: str, ranked: list[Ranked], margin: float) -> list[Ranked]:
        """The close contenders (those the LM pass would weigh) scored by how near the clause's meaning is to
        their sketches' instructions; the others take the lowest contender's score. Unchanged when one
        candidate stands alone or the embedding model is not installed."""
        close = self._close(ranked, margin)
        if len(close) < 2 or W_INTENT == 0:
            return ranked
        vector = embed(clause)
        if vector is None:
            return ranked
        near = {r.program: max((float(embed(text) @ vector) for text in r.instructions), default=0.0)
                for r in close}
        top = max(near.values())
        floor = min(near.values()) - top
        out = [replace(r, intent=near[r.program] - top if r.program in near else floor) for r in ranked]
        return sorted(out, key=lambda r: -r.prior)

    def _close(self, ranked: list[Ranked], margin: float) -> list[Ranked]:
        """The candidates within ``margin`` of the best prior (at most ``lm_top``)."""
        if not ranked:
            return []
        best = ranked[0].prior
        return [r for r in ranked[: self.lm_top] if r.prior >= best - margin]

    def _with_lm(self, query: str, ranked: list[Ranked], margin: float) -> list[Ranked]:
        close = self._close(ranked, margin)
        if len(close) < 2 or getattr(self.llm, "scoring_method", None) is None:
            return [replace(r, total=r.prior) for r in ranked]
        question = " ".join(query.split())
        pairs = [(f"Question: {question}\nProgram:", f" {r.gist}\n") for r in close] + \
                [(f"Program: {r.gist}\nQuestion:", f" {question}\n") for r in close]
        split = getattr(self.llm, "score_split", None)
        scores = split(self._header, pairs) if split else split_scores(self.llm, self._header, pairs)
        direct = [tail / max(1, n) for _, tail, n in scores[: len(close)]]
        channel = [tail / max(1, n) for _, tail, n in scores[len(close):]]
        top = max(d + c for d, c in zip(direct, channel))
        scored = {r.program: replace(r, lm_direct=d, lm_channel=c, total=r.prior + W_LM * (d + c - top))
                  for r, d, c in zip(close, direct, channel)}
        floor = min(d + c for d, c in zip(direct, channel)) - top
        out = [scored.get(r.program) or replace(r, total=r.prior + W_LM * floor) for r in ranked]
        return sorted(out, key=lambda r: -r.total)


def _structure(sketch, filled, facts) -> float:
    """Minus what the candidate leaves unused of the question and what it assumes the question did not say."""
    score = -sum(_PENALTY[k] * max(0, v) for k, v in filled.unused.items()) - 0.75 * filled.defaults
    score -= 0.1 * len(sketch.steps)   # of two programs that fit equally, the shorter
    modules = sketch.modules
    for module in _RELATION_MODULES:
        score -= 2.0 * abs(modules.count(module) - facts.relations.count(module))
    texts = facts.has("text")
    score -= 2.0 if ("OCR" in modules) != texts else 0.0
    score -= 2.0 if "FACEDET" in modules and not facts.has("face") else 0.0
    cued = {op for op in facts.ops if op in "+-"} | _implied_sum(facts)
    score -= 2.5 * len(cued ^ set(sketch.arithmetic))
    steps = filled.program.steps
    score -= 3.0 * len(_unused_attributes(steps, facts))   # above what a near-identical example retrieves
    score -= 2.5 * _redundant_selections(steps)   # a step that narrows nothing is never asked for
    score -= 1.0 if facts.predicate_negation else 0.0
    score -= _connective_mismatch(sketch, facts)
    asked = question_or_pairs(facts)
    if asked:
        score -= 1.5 * len(asked ^ program_or_pairs(steps))
    wanted = answer_type(facts)
    if sketch.answer_type != wanted:
        score -= 4.0
    elif wanted == "image" and facts.words and facts.words[0] in sketch.verbs:
        score += 1.0  # the same edit verb as an instruction of this sketch
    if facts.extra["reading"].removal and not _replaces(steps, is_removal):
        score -= 3.0  # a removal is REPLACE with nothing: cropping to the object, blurring or tagging it keeps it
    recolour = facts.recolour
    if recolour and not _replaces(steps, lambda prompt: recolour[0] in prompt.split()):
        score -= 3.0  # a recolouring paints the object: a colour pop of it, or a crop, leaves it as it was
    if "WHERE" in modules and not _asks_where(facts):
        score -= 3.0  # the side of the photo a thing is on, for a question that asks no such thing
    named = {w[:-1] if w.endswith("s") else w for w in facts.words} & _MODULE_WORDS
    score += 1.0 * sum(1 for word in named if any(word in m.lower() for m in sketch.modules))
    score -= 2.0 * len(_unnamed_edits(sketch, facts))
    score -= 3.0 * _unasked_lists(steps, facts)
    return score


def _unasked_lists(steps, facts) -> int:
    """LIST queries and CLASSIFY category lists the request says nothing of: 'label the dog' is no request to
    name it among the characters of a cartoon, nor 'label each dog with its breed' among fruits (both are
    kept from the examples the request resembles)."""
    words = {singular(w) for w in facts.words}
    count = 0
    for step in steps:
        listed = step.arg("query", "") if step.module == "LIST" else step.arg("categories") \
            if step.module == "CLASSIFY" and isinstance(step.arg("categories"), (list, tuple)) else None
        if listed is not None:
            text = " ".join(map(str, listed)) if isinstance(listed, (list, tuple)) else str(listed)
            asked = {singular(w) for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}
            count += bool(asked) and not asked & words
    return count


_EDIT_MODULES = ("BLUR", "BGBLUR", "COLORPOP", "EMOJI", "TAG", "REPLACE", "CROP")
_ALL_BUT = frozenset({"except", "everything", "rest", "else", "apart", "besides"})


@functools.lru_cache(maxsize=1)
def _edit_cues() -> dict[str, frozenset]:
    """Per edit module, the words of lexicon.json's ``module_words`` that name it and no other edit ('background'
    names BGBLUR, 'blur' BLUR, 'pop' COLORPOP; 'everything else' names two, so neither). Small words ('out',
    'but', 'with', 'into') name nothing: 'cut out the truck' is a crop, 'zoom into the horse' no replacement."""
    lex = lexicon()
    small = (set(lex["query_function_words"]) | set(lex["coverage_function_words"])) - {"around", "behind"}
    small |= set(COLOURS) - {"grey", "gray"}   # 'the white horse' is an attribute; 'grey out' names a pop
    named = {m: set(lex["module_words"][m]) - small for m in _EDIT_MODULES}
    return {m: frozenset(words - set().union(*(w for o, w in named.items() if o != m))) for m, words in named.items()}


def _unnamed_edits(sketch, facts) -> set[str]:
    """The candidate's edit modules that the request names no word of, where it names another edit's: 'blur
    the dog' is BLUR (a background blur keeps the dog sharp), 'grey out all but the horse' a colour pop, 'pop
    the bus' no tag. A recolouring or a removal names REPLACE whatever its verb ('make the bus red')."""
    reading = facts.extra.get("reading")
    if reading is None or reading.act != "edit":
        return set()   # a question's CROP looks closer: it edits nothing
    words = set(facts.words) | {singular(w) for w in facts.words}
    cues = _edit_cues()
    cued = {m for m, names in cues.items() if words & names}
    if facts.recolour or reading.removal:
        cued.add("REPLACE")
    if "BLUR" in cued and words & _ALL_BUT:
        cued.add("BGBLUR")   # 'blur everything except the meter' blurs all but it: a background blur
    if not cued:
        return set()
    return {m for m in sketch.modules if m in cues and m not in cued}


def _asks_where(facts) -> bool:
    """Whether the question asks where a thing is ('where', a side of the photo, 'which side', 'which part')."""
    lex = lexicon()
    return bool(set(facts.words) & ({"where"} | set(lex["photo_sides"]) | set(lex["module_words"]["WHERE"])))


def _implied_sum(facts) -> set[str]:
    """'How many cats and dogs?' counts both: a sum, though no word says 'in total'."""
    reading = facts.extra.get("reading")
    if reading is None or reading.answer != "number" or any(op not in "+-" for op in facts.ops):
        return set()
    objects = [m for m in facts.mentions if m.kind == "object" and not m.negated and not facts.is_location(m)]
    joined = any(set(facts.words[a.end:b.start]) & {"and", ",", "plus"} for a, b in zip(objects, objects[1:]))
    return {"+"} if joined else set()


def _unused_attributes(steps, facts) -> list[str]:
    """Colour words of the question that no argument of the program carries ('Is the truck green?' answered
    by finding any truck leaves 'green' unused)."""
    colours = [w for w in facts.words if w in COLOURS]
    if not colours:
        return []
    reading = facts.extra.get("reading")
    if reading is not None and (reading.answer == "colour" or set(reading.choices) & set(colours)):
        return []   # the colours are what is asked, not an attribute ('the white horse on the left or right?')
    carried = " ".join(a.value.lower() for step in steps for a in step.args if isinstance(a.value, str))
    return [c for c in colours if c not in carried.split()]


def _redundant_selections(steps) -> int:
    """SELECT steps whose query only repeats what was already found ('face' among faces, 'cats' among the
    cats LOC found): a step that narrows nothing."""
    found = {"face", "faces"} | {singular(str(s.arg("object", ""))) for s in steps if s.module == "LOC"}
    count = 0
    for step in steps:
        if step.module == "SELECT":
            query = {singular(w) for w in str(step.arg("query", "")).lower().split()}
            category = str(step.arg("category") or "")
            if query and query <= found | {singular(category)} | {"face"}:
                count += 1
    return count


def _replaces(steps, wanted) -> bool:
    """Whether a step of the program REPLACEs with a prompt ``wanted(prompt)`` accepts."""
    return any(step.module == "REPLACE" and wanted(str(step.arg("prompt", ""))) for step in steps)


_MODULE_WORDS = {"emoji", "blur", "crop", "tag", "count", "replace", "ocr", "caption", "segment"}


def _connective_mismatch(sketch, facts) -> float:
    """An 'or' / 'xor' program for a question that says neither 'or'/'either' nor 'only one'."""
    expressions = " ".join(str(s.arg("expr", "")) for s in sketch.steps if s.module == "EVAL")
    words = set(facts.words)
    negated = bool(set(facts.words) & NEGATIONS)
    if ("== 0" in expressions or any(sketch.polarity)) != negated:
        return 2.0  # absence ('== 0', a negated object) exactly when the question negates something
    if " xor " in expressions:
        return 0.0 if words & {"only", "just", "exactly", "but", "single"} and "one" in words else 2.0
    if " or " in expressions:
        return 0.0 if words & {"or", "either", "least"} else 2.0
    return 0.0


def question_or_pairs(facts) -> set[frozenset]:
    """Pairs of objects the question joins with 'or' ("a bicycle or a car next to the dog": {bicycle, car});
    negated objects are left out ("no cat or horse" asks for neither, an 'and' of two absences)."""
    if set(facts.words) & {"more", "fewer", "less", "than", "most", "fewest"}:
        return set()  # "more cats or dogs?" compares; it does not ask for either
    objects = [m for m in facts.mentions if m.kind == "object" and not m.negated]
    return {frozenset((a.name, b.name)) for a, b in zip(objects, objects[1:])
            if "or" in facts.words[a.end:b.start] and a.name != b.name}


_OR = re.compile(r"\{(\w+)\}\s*>\s*0\s+or\s+\{(\w+)\}\s*>\s*0")


def program_or_pairs(steps) -> set[frozenset]:
    """Pairs of LOC objects whose counts a program's EVAL joins with 'or' (``{A} > 0 or {B} > 0``)."""
    by_output = {step.output: step for step in steps}

    def located(name: str):
        step = by_output.get(name)
        box = step.arg("box") if step is not None and step.module == "COUNT" else None
        loc = by_output.get(box.name) if isinstance(box, Ref) else None
        return loc.arg("object") if loc is not None and loc.module == "LOC" else None

    pairs = set()
    for step in steps:
        if step.module == "EVAL":
            for left, right in _OR.findall(str(step.arg("expr", ""))):
                names = (located(left), located(right))
                if None not in names:
                    pairs.add(frozenset(names))
    return pairs


_READ_AS = {"number": "number", "yesno": "yesno", "choice": "text", "colour": "text", "text": "text",
            "image": "image"}


def answer_type(facts) -> str:
    """What the request wants back (number | yesno | text | image), from the whole request's reading
    (``loupe.agent.planning.reading``), which ``RankPlanner.rank`` puts in the facts."""
    return _READ_AS[facts.extra["reading"].answer]


def _placed(program: Program) -> Program | None:
    """The filled program with the spans (and source) of its text; None when it has no text (a value that
    does not render)."""
    try:
        return placed(program)
    except (ValueError, TypeError):
        return None


def gist_of(program_text: str) -> str:
    """A short line for the LM: ``LOC dog; COUNT; LOC cat; COUNT; EVAL yes if A > 0 and B == 0``."""
    parts = []
    names: dict[str, str] = {}
    for line in program_text.strip().splitlines():
        output, _, call = line.partition("=")
        module, _, args = call.partition("(")
        if module == "RESULT":
            continue
        if module == "EVAL":
            expr = re.sub(r"\{(\w+)\}", lambda m: names.get(m.group(1), "X"), args.rstrip(")"))
            parts.append("EVAL " + re.sub(r"^expr=[\"']|[\"']$", "", expr).replace("'", ""))
        else:
            values = re.findall(r"=(?:'([^']*)'|\"([^\"]*)\"|(LEFT|RIGHT))", args)
            shown = " ".join(a or b or c for a, b, c in values)
            parts.append(f"{module} {shown}".strip())
        if module == "COUNT":
            names[output.strip()] = "ABCDEFGH"[len(names) % 8]
    return "; ".join(parts)


def _overlap(query: str, instructions) -> float:
    words = set(re.findall(r"\w+", query.lower()))
    best = 0.0
    for text in instructions:
        other = set(re.findall(r"\w+", text.lower()))
        best = max(best, len(words & other) / max(1, len(words | other)))
    return best


def _header_examples(examples):
    """Four varied, short library examples for the scoring prompt (one each of a few kinds)."""
    chosen, kinds = [], set()
    for example in examples:
        if example.kind in ("counting", "existence", "compositional", "ocr") and example.kind not in kinds \
                and len(example.program.splitlines()) <= 6:
            chosen.append(example)
            kinds.add(example.kind)
    return chosen
