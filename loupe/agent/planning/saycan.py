"""SayCan-style step planner: at each step, score every candidate next step by the LLM's likelihood
of its text after the few-shot prompt, the query and the steps so far, multiply by the tool's
affordance (can it succeed here?), run the best, and repeat until RESULT or the step bound.
Every candidate's two scores are kept for the trace and the report. With ``approve``, a step that
writes an image runs only once ``approve(program so far + the step, [module])`` says yes; a refusal
ends the run (``rejected``).

Before scoring, candidates that cannot succeed are pruned: a tool whose affordance is 0 here, a step
the checker rejects after the steps so far, a RESULT of found objects (not an answer; TAG shows them).
The rest are scored in one forward on the KV-cached prompt (``LocalLM.score_tree``: their shared
beginnings once; ``llm.score`` for other models). Every scored candidate's two scores, and what was
pruned and why, are kept for the trace and the report.

The candidate pool comes from the question's typed knowledge first (``loupe.agent.planning.saycan_skills``): the next
steps of the library sketches filled from the question that are still consistent with the steps so
far, each with a skill prior from the sketch's rank, then the generic tool instantiations
(``loupe.agent.planning.candidates``) at a small prior. What SayCan maximises is ``prior x LLM x affordance``.

A step needs no LLM pass when the pass cannot change the winner: one candidate left after pruning, or one
whose prior x affordance is more than ``LLM_RATIO_CAP`` times every other's. The LLM factor is a
length-normalised softmax whose weights are floored at ``1 / LLM_RATIO_CAP`` of the best's, so two
candidates' LLM factors differ by at most that ratio: a 135M model's likelihood ratios beyond it say
more about the wording of a step (a long EVAL, a quoted question) than about whether it is the right
step, and they must not outvote the question's typed reading (the filled sketches). A skipped pass is in
the trace: the step's ``llm_pass`` says why, its candidates have ``llm_logprob=None`` and an LLM factor
of 1. If the forced winner fails when run, the rest are scored before the next is tried; if it was a
filled program's step, the pool is made again from the filled programs that can go on without it
(``SketchSkills.fail``: after "no clock found; nothing to crop", reading the whole photo).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, replace
from functools import partial
import math
import re
import threading
from typing import Any, Callable, Mapping

from loupe.agent.planning import prompts
from loupe.agent.planning.candidates import candidates
from loupe.programs.checker import check
from loupe.programs.errors import ProgramError
from loupe.programs.ir import Arg, Program, Ref, Step
from loupe.programs.render import render_step
from loupe.programs.trace import Execution, StepRecord
from loupe.programs.values import ValueType, type_of

CHARS_PER_TOKEN = 4.0
LLM_RATIO_CAP = 20.0    # the most one candidate's LLM factor can outweigh another's (see the module docstring)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NOT_WARMED = ("RESULT", "LIST")  # LIST asks the LLM, with no per-image cache: warming it would do it twice


@dataclass(frozen=True)
class ScoredCandidate:
    text: str
    llm_logprob: float | None  # total log-likelihood of the step's text; None: no LLM pass at this step
    llm: float              # probability among this step's candidates (length-normalised softmax)
    affordance: float       # 0..1 from the tool and its backend
    combined: float         # prior x llm x affordance: what SayCan maximises
    prior: float = 1.0      # 0..1 skill prior from the filled sketches (agent.planning.saycan_skills)


@dataclass(frozen=True)
class SayCanStep:
    chosen: str
    candidates: tuple[ScoredCandidate, ...]
    record: StepRecord
    pruned: tuple[tuple[str, str], ...] = ()   # (candidate text, why it was not scored)
    llm_pass: str = ""    # why this step's LLM pass was skipped; "" when the candidates were scored

    def summary(self) -> dict:
        """The choice as JSON-ready data: the chosen step, why the LLM pass was skipped (or ""), each
        candidate's scores (best product first; ``llm_logprob`` None when not scored) and what was pruned."""
        ranked = sorted(self.candidates, key=lambda c: -c.combined)
        return {"chosen": self.chosen, "llm_pass": self.llm_pass or "scored",
                "candidates": [{"text": c.text, "prior": round(c.prior, 4), "llm": round(c.llm, 4),
                                "llm_logprob": None if c.llm_logprob is None else round(c.llm_logprob, 3),
                                "affordance": round(c.affordance, 3), "combined": round(c.combined, 5)}
                               for c in ranked],
                "pruned": [{"text": text, "why": why} for text, why in self.pruned]}


@dataclass(frozen=True)
class _Outcome:
    """What ``SayCanPlanner._decide`` did at one step: ``kind`` ran | result | rejected | replan | none."""

    kind: str
    text: str
    scored: tuple[ScoredCandidate, ...]
    calls: int
    llm_pass: str
    record: StepRecord | None = None
    output: str = ""
    result: str = ""      # the variable a RESULT names


@dataclass(frozen=True)
class SayCanRun:
    steps: tuple[SayCanStep, ...]
    execution: Execution
    llm_calls: int
    prompt_tokens: int
    failed_tries: tuple[StepRecord, ...] = ()
    rejected: bool = False  # a person refused an image-writing step; the run stopped there


class SayCanPlanner:
    def __init__(self, llm, registry, retriever, interpreter, max_steps: int = 8, examples_k: int = 4,
                 max_candidates: int = 120, approve: Callable[[str, list[str]], bool] | None = None,
                 ranker=None):
        self.llm, self.registry, self.retriever, self.interpreter = llm, registry, retriever, interpreter
        self.max_steps, self.examples_k, self.max_candidates = max_steps, examples_k, max_candidates
        self.approve, self.ranker = approve, ranker  # ranker: a RankPlanner (the skills' source)

    def run(self, query: str, inputs: Mapping[str, Any]) -> SayCanRun:
        from loupe.agent.planning.saycan_skills import SketchSkills

        examples = self.retriever.top(query, k=self.examples_k)
        skills = SketchSkills.for_query(self._ranker(), query, "RIGHT" in inputs)
        warm = self._warm(skills, inputs)
        try:
            return self._steps(query, inputs, examples, skills, warm)
        finally:
            if warm is not None:
                warm.join()  # a run never leaves its warm-up behind

    def _steps(self, query: str, inputs: Mapping[str, Any], examples, skills, warm) -> SayCanRun:
        """The step loop of ``run``."""
        values: dict[str, Any] = dict(inputs)
        done_texts: set[str] = set()
        lines: list[str] = []
        steps: list[SayCanStep] = []
        records: list[StepRecord] = []
        calls = skills.llm_calls
        failed: list[StepRecord] = []
        usage_before = self.llm.usage.prompt_tokens
        for number in range(self.max_steps):
            generic = candidates(self.registry, values, query, done_texts)[: self.max_candidates]
            options, priors, set_aside = skills.pool(generic, lines, values)
            prior_of = {id(step): prior for step, prior in zip(options, priors)}
            options, affordances, pruned = prune(options, self.registry, values, lines, inputs,
                                                 last=number == self.max_steps - 1, question=is_question(query),
                                                 released=skills.released_outputs())
            pruned += set_aside
            if not options:
                break
            priors = [prior_of[id(step)] for step in options]
            prompt = prompts.saycan_prompt(examples, query, lines)
            outcome = self._decide(prompt, options, affordances, priors, values, lines, done_texts, failed, skills,
                                   warm, (records, steps))
            calls += outcome.calls
            if outcome.kind == "replan":  # a filled program's step failed: make the pool again
                continue
            step = SayCanStep(outcome.text, outcome.scored, outcome.record or (records[-1] if records else None),
                              pruned, outcome.llm_pass)
            if outcome.kind == "result":  # done wins: stop here
                steps.append(step)
                return self._finish(steps, records, failed, lines + [outcome.text], values[outcome.result],
                                    inputs, calls, usage_before)
            if outcome.kind == "rejected":
                return self._finish(steps, records, failed, lines, None, inputs, calls, usage_before,
                                    rejected=True)
            if outcome.kind != "ran":
                break
            values[outcome.output] = outcome.record.value
            lines.append(outcome.text)
            records.append(outcome.record)
            steps.append(step)
        return self._finish(steps, records, failed, lines, None, inputs, calls, usage_before)

    def _decide(self, prompt: str, options, affordances, priors, values, lines, done_texts, failed,
                skills=None, warm=None, trace=None) -> _Outcome:
        """Rank the options (``_rank``) and run the best; a failed try is kept in ``failed``. When it was a
        filled program's step (``skills.fail``), the pool is made again ("replan": other filled programs
        may go on from here); else the next best is tried, after an LLM pass over the rest when the pass
        was skipped (the order below the forced winner was never scored). A RESULT ends the run; a refused
        edit stops it."""
        scored, skipped = self._rank(prompt, options, affordances, priors)
        calls, tried = int(not skipped), set()
        while True:
            order = [i for i in sorted(range(len(options)), key=lambda i: -scored[i].combined) if i not in tried]
            for index in order:
                step, text = options[index], scored[index].text
                outcome = partial(_Outcome, text=text, scored=tuple(scored), calls=calls, llm_pass=skipped)
                if step.module == "RESULT":
                    return outcome("result", result=step.args[0].value.name)
                if scored[index].combined <= 0:
                    return outcome("none")
                if not self._approved(step, lines + [text]):
                    return outcome("rejected")
                if warm is not None:
                    warm.join()  # never two runs of one model on the photo at once
                if trace is not None:  # (records, steps) so far
                    self._recount_zero_tested(step, values, lines, *trace)
                record = self.interpreter.run_step(step, values)
                done_texts.add(text.split("=", 1)[1])
                if record.ok:
                    return outcome("ran", record=record, output=step.output)
                failed.append(record)  # a failed try is kept apart; the next best is tried
                tried.add(index)
                if skills is not None and skills.fail(step, lines, values):
                    return outcome("replan")
                if skipped and len(order) > 2:  # the order below the forced winner was never scored
                    scored, skipped = self._score(prompt, options, affordances, priors), ""
                    calls += 1
                    break
                if skipped and len(order) == 2:
                    skipped = f"{text} failed; one candidate left: nothing to choose"
            else:
                return _Outcome("none", "", tuple(scored), calls, skipped)

    def _recount_zero_tested(self, step, values: dict, lines: list[str], records: list[StepRecord],
                             steps: list[SayCanStep]) -> None:
        """Before ``step`` runs: each earlier step whose output ``step`` only tests for zero (an EVAL's
        ``{N} > 0``) and whose tool then counts differently (``Tool.existence_input``: COUNT's faint objects)
        runs again as a whole program would have run it; its value and record (in ``records`` and
        ``steps``) are replaced. Step by step, a COUNT runs before anything reads it."""
        from loupe.programs.parser import parse_program

        tested = self.registry.tool_class(step.module).zero_tested({a.name: a.value for a in step.args})
        for position, record in enumerate(records):
            if record.output not in tested or not self.registry.tool_class(record.module).existence_input:
                continue
            known = {name: value for name, value in values.items() if name != record.output}
            again = self.interpreter.run_step(parse_program(lines[position]).steps[0], known, zero_tested=True)
            if again.ok:
                values[record.output], records[position] = again.value, again
                steps[:] = [replace(s, record=again) if s.record is record else s for s in steps]

    def _warm(self, skills, inputs: Mapping[str, Any]):
        """The best filled program's first step, run in a background thread when it reads only the inputs and
        writes no image (LOC, OCR, FACEDET on IMAGE): its models load and its per-image results are cached
        on the other core while the LLM scores the first step, so that step, when chosen, runs from the
        cache. Nothing of it is used but that cache (the step runs again, and is traced, when chosen).
        The thread, or None."""
        first = skills.sources[0].steps[0] if skills.sources else None
        if first is None or first.module in _NOT_WARMED or self.registry.tool_class(first.module).writes_image \
                or not {ref.name for ref in first.refs()} <= set(inputs):
            return None
        thread = threading.Thread(target=contextvars.copy_context().run, name="loupe-saycan-warm", daemon=True,
                                  args=(self.interpreter.run_step, first, dict(inputs)))
        thread.start()
        return thread

    def _ranker(self):
        """The ranking planner whose filled sketches propose skills (built here when none was given)."""
        if not hasattr(self.ranker, "rank"):
            from loupe.agent.planning.rank_planner import RankPlanner

            self.ranker = RankPlanner(self.llm, self.registry, self.retriever)
        return self.ranker

    def _rank(self, prompt: str, options, affordances: list[float], priors: list[float]):
        """``(scored candidates, why the LLM pass was skipped or "")``. The pass is skipped when its result
        cannot change the winner: one candidate, or one whose prior x affordance is more than
        ``LLM_RATIO_CAP`` times every other's (the LLM factor of two candidates differs by at most that
        ratio). Skipped candidates carry ``llm_logprob=None`` and an LLM factor of 1."""
        if len(options) == 1:
            why = "one candidate left: nothing to choose"
        else:
            base = sorted((p * a for p, a in zip(priors, affordances)), reverse=True)
            why = (f"prior x affordance decides: the best is {base[0] / base[1]:.0f}x the next, more than any "
                   f"LLM ratio ({LLM_RATIO_CAP:.0f}x) can change" if base[0] > LLM_RATIO_CAP * base[1] else "")
        if not why:
            return self._score(prompt, options, affordances, priors), ""
        return [ScoredCandidate(render_step(step), None, 1.0, affordance, prior * affordance, prior)
                for step, affordance, prior in zip(options, affordances, priors)], why

    def _score(self, prompt: str, options, affordances: list[float], priors: list[float]) -> list[ScoredCandidate]:
        """Every option's LLM log-likelihood (one forward on the cached prompt), its probability among
        the options (length-normalised softmax, each weight at least ``1 / LLM_RATIO_CAP`` of the best's),
        and the product with its skill prior and affordance."""
        texts = [render_step(step) for step in options]
        scorer = getattr(self.llm, "score_tree", None) or self.llm.score
        logprobs = scorer(prompt, [text + "\n" for text in texts])
        normalised = [lp / max(1.0, len(t) / CHARS_PER_TOKEN) for lp, t in zip(logprobs, texts)]
        top, floor = max(normalised), -math.log(LLM_RATIO_CAP)
        weights = [math.exp(max(n - top, floor)) for n in normalised]
        total = sum(weights)
        return [ScoredCandidate(text, lp, w / total, affordance, prior * (w / total) * affordance, prior)
                for text, lp, w, affordance, prior in zip(texts, logprobs, weights, affordances, priors)]

    def _approved(self, step, lines: list[str]) -> bool:
        """Whether ``step`` may run: it writes no image, or approval is off, or a person said yes."""
        if self.approve is None or not self.registry.tool_class(step.module).writes_image:
            return True
        return bool(self.approve("\n".join(lines), [step.module]))

    def _finish(self, steps, records, failed, lines, result, inputs, calls, usage_before,
                rejected: bool = False) -> SayCanRun:
        from loupe.programs.parser import parse_program

        program = parse_program("\n".join(lines)) if lines else Program(())
        execution = Execution(program, tuple(records), result, dict(inputs),
                              sum(r.wall_s for r in records))
        return SayCanRun(tuple(steps), execution, calls, self.llm.usage.prompt_tokens - usage_before,
                         tuple(failed), rejected)


_QUESTION_WORDS = set("how is are what which who whose where when why does do did was were has have".split())


def is_question(query: str) -> bool:
    """A question asks for an answer, not an edited image: "How many...?", "Is there...?" (not "Can
    you blur...?")."""
    words = query.strip().lower().split()
    return query.strip().endswith("?") and bool(words) and words[0] in _QUESTION_WORDS


def prune(options, registry, values: Mapping[str, Any], lines: list[str], inputs: Mapping[str, Any],
          last: bool = False, question: bool = False, released: set[str] = frozenset()):
    """The options worth scoring, their affordances, and the rest as ``(text, why)``: affordance 0,
    rejected by the checker after ``lines``, a RESULT of objects, a finishing step (EVAL, RESULT)
    while objects found earlier are still unused (counted, cropped, tagged...: a detection nobody
    uses is a missing step; not the ``released`` ones, made by a dead end), an EVAL that uses fewer of
    the unused counts than another EVAL does (a count nobody uses is a lost one), or an image edit when
    the query is a ``question``; on the ``last`` step RESULT is always allowed."""
    from loupe.programs.parser import parse_program

    so_far = tuple(parse_program("\n".join(lines)).steps) if lines else ()
    used = {r.name for line in so_far for r in line.refs()}
    unused = [n for n, v in values.items() if n not in used | released and type_of(v) is ValueType.OBJECTS]
    scalars = {n for n, v in values.items() if n not in used and type_of(v) is ValueType.NUMBER}
    cover = {id(s): len(scalars & set(_PLACEHOLDER.findall(str(s.arg("expr"))))) for s in options
             if s.module == "EVAL"}
    input_types = {name: type_of(value) for name, value in inputs.items()}
    kept, affordances, pruned = [], [], []
    for step in options:
        why = ""
        if question and step.module != "RESULT" and registry.tool_class(step.module).writes_image:
            why = "the question asks for an answer, not an edited image"
        elif step.module == "EVAL" and cover[id(step)] < max(cover.values()):
            why = "another EVAL uses more of the counts not used yet"
        elif unused and step.module in ("EVAL", "RESULT") and not (last and step.module == "RESULT"):
            why = f"{', '.join(unused)} not used yet"
        affordance = 0.0 if why else _affordance(step, registry, values)
        why = why or ("affordance 0" if affordance <= 0 else _check_problem(step, so_far, registry, input_types))
        if why:
            pruned.append((render_step(step), why))
        else:
            kept.append(step)
            affordances.append(affordance)
    return kept, affordances, tuple(pruned)


def _affordance(step: Step, registry, values: Mapping[str, Any]) -> float:
    """The tool's affordance with the step's arguments (RESULT: 1, but 0 for objects: not an answer)."""
    if step.module == "RESULT":
        return 0.0 if type_of(values.get(step.args[0].value.name)) is ValueType.OBJECTS else 1.0
    args = {a.name: (values.get(a.value.name) if isinstance(a.value, Ref) else a.value) for a in step.args}
    return registry.tool(step.module).affordance(args)


def _check_problem(step: Step, so_far: tuple, registry, input_types) -> str:
    """The checker's first message for the steps so far plus ``step`` (and a RESULT of it); "" if it checks."""
    ending = () if step.module == "RESULT" else (Step("FINAL_RESULT", "RESULT", (Arg("var", Ref(step.output)),)),)
    try:
        check(Program(so_far + (step,) + ending), registry, input_types)
    except ProgramError as error:
        return "does not check: " + error.diagnostics[0].message
    return ""
