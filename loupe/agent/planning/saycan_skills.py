"""SayCan's candidate skills from the typed knowledge the ranking planner uses.

The question's facts (``loupe.agent.planning.query_facts``) fill the library's sketches (``loupe.agent.planning.sketches``,
``loupe.agent.planning.sketch_fill``) into checked programs, each with the ranking planner's prior (structure,
retrieval, affordance) plus, where several fit about as well, its one batched LM pass over whole
programs (``RankPlanner.rank``; ``lm=False`` leaves it out). SayCan does not run those programs: at each step it asks ``SketchSkills.propose`` for the next step of every filled program still
*consistent* with the steps run so far (each step so far is one of the program's steps), and gives each
proposed step a skill prior: the summed weight ``exp(total - best total)`` of the programs proposing it.
Generic candidates (every tool bound to the current values) stay in the pool with ``GENERIC_PRIOR`` of
the best proposal's weight, so the LLM and the affordances can still choose a step no sketch foresaw.
SayCan then maximises ``skill prior x LLM probability x affordance`` at each step, as before.

When a proposed step fails when run (``fail``: "no clock found; nothing to crop"), the filled programs
whose step it was are dropped and the steps so far that made its inputs are *released*: they no longer
bind consistency, so a filled program without them (reading the whole photo) can be followed from there,
as program mode's replan would; their detections need not be used before finishing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping

from loupe.agent.planning.rank_planner import WIDE_MARGIN
from loupe.programs.ir import Step

TOP_PROGRAMS = 8        # filled programs kept as skill sources (best priors first)
PRIOR_MARGIN = 6.0      # ... and only those within this many points of the best total
GENERIC_PRIOR = 0.05    # a generic candidate's weight, as a share of the best proposal's
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class SkillSource:
    """One filled program: its steps (the ranked ``Program``'s, and as text) and its weight
    ``exp(total - best)`` in (0, 1]."""

    steps: tuple[Step, ...]
    texts: tuple[str, ...]
    weight: float
    sketch: str


class SketchSkills:
    """The filled sketches of one question, as next-step proposals with priors."""

    def __init__(self, sources: list[SkillSource], llm_calls: int = 0):
        self.sources, self.llm_calls = sources, llm_calls
        self.dead: set[int] = set()        # sources whose next step failed when run
        self.released: set[str] = set()    # steps so far that began a dead end: no longer binding

    @classmethod
    def for_query(cls, ranker, query: str, two_images: bool, lm: bool = True) -> SketchSkills:
        """From ``ranker.rank(query, two_images, lm=lm)`` over the wide margin (``RankPlanner``: each candidate's ``ir`` is its
        checked program); no sources when the ranker has none or fails (SayCan then scores generic
        candidates only). ``llm_calls``: 1 when the ranking ran its LM pass, else 0."""
        from loupe.programs.render import render_step

        try:
            ranked = ranker.rank(query, two_images, lm=lm, margin=max(ranker.lm_margin, WIDE_MARGIN)) \
                if ranker is not None else []
        except Exception:  # noqa: BLE001 - the skill prior is a help, never a reason to fail the run
            ranked = []
        if not ranked:
            return cls([])
        best = ranked[0].total
        sources = []
        for candidate in ranked[:TOP_PROGRAMS]:
            if candidate.total < best - PRIOR_MARGIN:
                break
            steps = tuple(candidate.ir.steps)
            sources.append(SkillSource(steps, tuple(render_step(s) for s in steps),
                                       math.exp(candidate.total - best), candidate.sketch))
        return cls(sources, int(any(r.lm_direct is not None for r in ranked)))

    def propose(self, lines: list[str], values: Mapping[str, object]) -> dict[str, tuple[Step, float]]:
        """The next step of every source consistent with ``lines`` (the steps run so far, as text), keyed
        by its call text (the part after '='), with the summed weight of the sources proposing it."""
        proposals: dict[str, tuple[Step, float]] = {}
        for _, source, step in self._next_steps(lines, values):
            call = _call(source.texts[source.steps.index(step)])
            old = proposals.get(call)
            proposals[call] = (old[0] if old else step, (old[1] if old else 0.0) + source.weight)
        return proposals

    def fail(self, step: Step, lines: list[str], values: Mapping[str, object]) -> bool:
        """``step`` failed when run after ``lines``. The sources whose next step it was are dropped, and the
        steps so far that made its inputs are released: a filled program that does not use them may be
        followed from here (after "no clock found; nothing to crop", reading the whole photo). True when
        a source was dropped (the pool changes: make it again)."""
        from loupe.programs.render import render_call

        call = render_call(step)
        dropped = {index for index, source, proposed in self._next_steps(lines, values)
                   if _call(source.texts[source.steps.index(proposed)]) == call}
        self.dead |= dropped
        if dropped:
            inputs = {ref.name for ref in step.refs()}
            self.released |= {line for line in lines if line.split("=", 1)[0] in inputs}
        return bool(dropped)

    def released_outputs(self) -> set[str]:
        """The variables the released steps made (a dead end's detections need not be used)."""
        return {line.split("=", 1)[0] for line in self.released}

    def _next_steps(self, lines: list[str], values: Mapping[str, object]):
        """``(index, source, next step)`` of every live source consistent with ``lines``: each step so far,
        but the released ones, is one of the source's steps; its next step not run yet is ready."""
        done = set(lines)
        binding = done - self.released
        for index, source in enumerate(self.sources):
            if index in self.dead or not binding <= set(source.texts):
                continue
            step = next((s for s, t in zip(source.steps, source.texts) if t not in done and _ready(s, values)),
                        None)
            if step is not None:
                yield index, source, step

    def pool(self, generic: list[Step], lines: list[str], values: Mapping[str, object]):
        """The step pool for one SayCan step: ``(steps, priors, set_aside)``. Steps: the proposals (best
        weight first), then the generic candidates whose call no proposal makes and whose tool a
        consistent filled program still uses (or RESULT); priors in (0, 1] (the best proposal: 1;
        generic: ``GENERIC_PRIOR``; all 1 when nothing is proposed); ``set_aside``: ``(text, why)`` of
        the generic candidates left out (tools no consistent filled program uses)."""
        from loupe.programs.render import render_step

        proposals = self.propose(lines, values)
        if not proposals:
            return list(generic), [1.0] * len(generic), ()
        top = max(weight for _, weight in proposals.values())
        ordered = sorted(proposals.values(), key=lambda p: -p[1])
        steps = [step for step, _ in ordered]
        priors = [(weight + GENERIC_PRIOR * top) / (top * (1 + GENERIC_PRIOR)) for _, weight in ordered]
        in_play = self.modules_left(lines) | {"RESULT"}
        set_aside = []
        for step in generic:
            text = render_step(step)
            if _call(text) in proposals:
                continue
            if step.module in in_play:
                steps.append(step)
                priors.append(GENERIC_PRIOR / (1 + GENERIC_PRIOR))
            else:
                set_aside.append((text, f"no filled program for the question uses {step.module} here"))
        return steps, priors, tuple(set_aside)

    def modules_left(self, lines: list[str]) -> set[str]:
        """The tools of the steps not yet run of the sources consistent with ``lines``."""
        done = set(lines)
        binding = done - self.released
        return {step.module for index, source in enumerate(self.sources)
                if index not in self.dead and binding <= set(source.texts)
                for step, text in zip(source.steps, source.texts) if text not in done}


def _call(text: str) -> str:
    return text.split("=", 1)[1]


def _ready(step: Step, values: Mapping[str, object]) -> bool:
    """Whether every variable the step reads exists (EVAL's ``{NAME}`` placeholders included)."""
    names = [ref.name for ref in step.refs()]
    if step.module == "EVAL":
        names += _PLACEHOLDER.findall(str(step.arg("expr")))
    return all(name in values for name in names)
