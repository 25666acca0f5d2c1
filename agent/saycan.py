"""SayCan-style step planner: at each step, score every candidate next step by the LLM's likelihood
of its text after the few-shot prompt, the query and the steps so far, multiply by the tool's
affordance (can it succeed here?), run the best, and repeat until RESULT or the step bound.
Every candidate's two scores are kept for the trace and the report. With ``approve``, a step that
writes an image runs only once ``approve(program so far + the step, [module])`` says yes; a refusal
ends the run (``rejected``).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Callable, Mapping

from agent import prompts
from agent.candidates import candidates
from programs.ir import Program, Ref
from programs.render import render_step
from programs.trace import Execution, StepRecord

CHARS_PER_TOKEN = 4.0


@dataclass(frozen=True)
class ScoredCandidate:
    text: str
    llm_logprob: float      # total log-likelihood of the step's text
    llm: float              # probability among this step's candidates (length-normalised softmax)
    affordance: float       # 0..1 from the tool and its backend
    combined: float         # llm x affordance: what SayCan maximises


@dataclass(frozen=True)
class SayCanStep:
    chosen: str
    candidates: tuple[ScoredCandidate, ...]
    record: StepRecord


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
                 max_candidates: int = 120, approve: Callable[[str, list[str]], bool] | None = None):
        self.llm, self.registry, self.retriever, self.interpreter = llm, registry, retriever, interpreter
        self.max_steps, self.examples_k, self.max_candidates = max_steps, examples_k, max_candidates
        self.approve = approve

    def run(self, query: str, inputs: Mapping[str, Any]) -> SayCanRun:
        examples = self.retriever.top(query, k=self.examples_k)
        values: dict[str, Any] = dict(inputs)
        done_texts: set[str] = set()
        lines: list[str] = []
        steps: list[SayCanStep] = []
        records: list[StepRecord] = []
        calls = 0
        failed: list[StepRecord] = []
        usage_before = self.llm.usage.prompt_tokens
        result = None
        for _ in range(self.max_steps):
            options = candidates(self.registry, values, query, done_texts)[: self.max_candidates]
            if not options:
                break
            prompt = prompts.saycan_prompt(examples, query, lines)
            scored = self._score(prompt, options, values)
            calls += 1
            for index in sorted(range(len(options)), key=lambda i: -scored[i].combined):
                step = options[index]
                if step.module == "RESULT":
                    result = values[step.args[0].value.name]
                    steps.append(SayCanStep(scored[index].text, tuple(scored), records[-1] if records else None))
                    return self._finish(steps, records, failed, lines + [scored[index].text], result, inputs,
                                        calls, usage_before)
                if scored[index].combined <= 0:
                    break
                if not self._approved(step, lines + [scored[index].text]):
                    return self._finish(steps, records, failed, lines, None, inputs, calls, usage_before,
                                        rejected=True)
                record = self.interpreter.run_step(step, values)
                done_texts.add(scored[index].text.split("=", 1)[1])
                if record.ok:
                    values[step.output] = record.value
                    lines.append(scored[index].text)
                    records.append(record)
                    steps.append(SayCanStep(scored[index].text, tuple(scored), record))
                    break
                failed.append(record)  # a failed try is kept apart; the next best is tried
            else:
                break
        return self._finish(steps, records, failed, lines, result, inputs, calls, usage_before)

    def _score(self, prompt: str, options, values) -> list[ScoredCandidate]:
        texts = [render_step(step) for step in options]
        logprobs = self.llm.score(prompt, [text + "\n" for text in texts])
        normalised = [lp / max(1.0, len(t) / CHARS_PER_TOKEN) for lp, t in zip(logprobs, texts)]
        top = max(normalised)
        weights = [math.exp(n - top) for n in normalised]
        total = sum(weights)
        scored = []
        for step, text, lp, w in zip(options, texts, logprobs, weights):
            args = {a.name: (values.get(a.value.name) if isinstance(a.value, Ref) else a.value) for a in step.args}
            affordance = self.registry.tool(step.module).affordance(args) if step.module != "RESULT" else 1.0
            scored.append(ScoredCandidate(text, lp, w / total, affordance, (w / total) * affordance))
        return scored

    def _approved(self, step, lines: list[str]) -> bool:
        """Whether ``step`` may run: it writes no image, or approval is off, or a person said yes."""
        if self.approve is None or not self.registry.tool_class(step.module).writes_image:
            return True
        return bool(self.approve("\n".join(lines), [step.module]))

    def _finish(self, steps, records, failed, lines, result, inputs, calls, usage_before,
                rejected: bool = False) -> SayCanRun:
        from programs.parser import parse_program

        program = parse_program("\n".join(lines)) if lines else Program(())
        execution = Execution(program, tuple(records), result, dict(inputs),
                              sum(r.wall_s for r in records))
        return SayCanRun(tuple(steps), execution, calls, self.llm.usage.prompt_tokens - usage_before,
                         tuple(failed), rejected)
