"""Read a question for the ranking planner: what objects it names (mapped onto what the detector can
find), its numbers, comparisons, negations, regions and spatial relations.

``read_query("Is there a dog but no cat or horse?")`` -> mentions ``dog`` (+), ``cat`` (-), ``horse`` (-).
An object mention never takes in "and", "or", "not", "than", "but", "no": those words separate
mentions and set their polarity (a negation covers the mentions after it up to "and"/"but"/","; "or"
and "nor" keep it). A vocabulary noun followed by an unknown noun is a compound ("dog legs"), not the
vocabulary noun. Numbers come in digits or words ("three", "a dozen"); "one of" and "two images" are
not numbers. Comparatives keep their order: "more X than Y" is ``>`` with X first. The words (numbers,
synonyms, negations, comparatives, relations...) are data in ``lexicon.json``, shared with the reading.
A one-word noun after a determiner that the vocabulary does not know ('a pooch', 'the catt') is read as a class by
``loupe.agent.planning.object_words`` (``Mention.read_as`` says how) unless it is a place ('in the field'), a
predicate ('is he a pro') or read by meaning as a class the request names already ('a dog without a collar').
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from loupe.agent.planning.object_words import read_object_word
from loupe.agent.planning.reading import COLOURS, lexicon
from loupe.tools.coco import COCO_CLASSES
from loupe.tools.vocabulary import GROUPS, exact_class, means_face, normalize, plural, singular

_LEX = lexicon()   # the words live in lexicon.json (data, one source for planning): here as sets and tuples
NUMBER_WORDS: dict[str, int | None] = _LEX["number_words"]
PERSON_WORDS = frozenset(_LEX["person_words"])
EXTRA_SYNONYMS: dict[str, str] = _LEX["synonyms"]
TEXT_WORDS = frozenset(_LEX["text_words"])
IMAGE_WORDS = frozenset(_LEX["image_words"])
NEGATIONS = frozenset(_LEX["negations"])
BOUNDARIES = frozenset(_LEX["boundaries"])
_FUNCTION = frozenset(_LEX["query_function_words"])
_RELATIONS = tuple((cue, module) for cue, module in _LEX["relations"])
_COMPARATIVES = tuple((cue, op, numeric) for cue, op, numeric in _LEX["comparatives"])  # (words, op, a number follows)
_TRAILING_FILLERS = frozenset(_LEX["trailing_fillers"])
_TO_COLOUR = frozenset(_LEX["to_colour"])
RECOLOUR_VERBS = frozenset(_LEX["recolour_verbs"])
_LOCATIVE = frozenset(_LEX["locatives"])
_TOKEN = re.compile(r"[a-z0-9]+|,")


@dataclass(frozen=True)
class Mention:
    """One object the query names. ``name``: what to ask the detector for (a vocabulary class such as
    'wine glass', 'face', or the phrase itself when not in the vocabulary); ``phrase``: the words with
    their modifiers ('dog in the armchair'); ``start``/``end``: word positions; ``negated``: under a negation."""

    text: str
    name: str
    start: int
    end: int
    negated: bool = False
    known: bool = True
    kind: str = "object"  # object | face | text
    phrase: str = ""
    compound: bool = False  # a vocabulary noun used as a modifier of an unknown one ('dog legs')
    read_as: str = ""       # how a word outside the vocabulary was read as ``name``: spelling | meaning

    @property
    def named(self) -> str:
        """The object's own words as its class, in their number ('bike' -> 'bicycle', 'bikes' -> 'bicycles',
        'joggers' -> 'people'); a name outside the classes ('animals', 'dog legs') as said."""
        if not self.known or self.kind != "object" or self.name == self.text or self.name not in COCO_CLASSES:
            return self.text
        return plural(self.name) if singular(self.text) != self.text else self.name

    @property
    def named_phrase(self) -> str:
        """The phrase with the object's own words as its class ('black kitten' -> 'black cat'): what a step that
        selects it is given, so that every wording of one object plans one program."""
        phrase = self.phrase or self.text
        words, size = phrase.split(), len(self.text.split())
        at = next((i for i in range(len(words) - size + 1) if words[i:i + size] == self.text.split()), None)
        return phrase if at is None else " ".join(words[:at] + [self.named] + words[at + size:])


@dataclass(frozen=True)
class QueryFacts:
    query: str
    words: tuple[str, ...]
    mentions: tuple[Mention, ...]
    numbers: tuple[int, ...] = ()
    ops: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()          # LEFT / RIGHT / TOP / BOTTOM halves of one image
    relations: tuple[str, ...] = ()        # CROP_LEFTOF ... in order
    sides: tuple[str, ...] = ()            # LEFT / RIGHT images, in the order the query names them
    predicate_negation: bool = False       # a negation that covers no object ('dogs that are not sleeping')
    extra: dict = field(default_factory=dict)

    def is_location(self, mention: Mention) -> bool:
        """Whether the mention follows a preposition of place ('on the sofa'): a setting, often optional."""
        before = [w for w in self.words[max(0, mention.start - 3):mention.start] if w not in ("the", "a", "an")]
        return bool(before) and before[-1] in _LOCATIVE

    @property
    def objects(self) -> tuple[Mention, ...]:
        return tuple(m for m in self.mentions if m.kind == "object")

    def has(self, kind: str) -> bool:
        return any(m.kind == kind for m in self.mentions)

    @property
    def recolour(self) -> tuple[str, str] | None:
        """``(colour, object)`` when the query asks to give an object a colour ('Make the truck blue', 'Paint
        the red car green', 'Change the colour of the truck to blue' -> ('blue', 'truck')), else None: a
        recolouring verb first, then the object, the colour right after it and last ('Turn the bicycle into a
        red scooter' paints a new object; in 'Make everything but the kite black and white' the colour does not
        follow the object)."""
        words = self.words
        last = len(words) - 1
        while last > 0 and words[last] in _TRAILING_FILLERS:
            last -= 1
        if last < 2 or words[0] not in RECOLOUR_VERBS or words[last] not in COLOURS:
            return None
        before = [m for m in self.mentions if m.kind == "object" and m.end <= last and words[m.start] not in COLOURS]
        if not before or not set(words[before[-1].end:last]) <= _TO_COLOUR:
            return None
        return words[last], before[-1].named

    def signature(self) -> tuple:
        """What a reused program must agree with: objects (name, polarity), numbers, ops, regions,
        relations, sides, and whether a negation covers a predicate."""
        return (tuple((m.name, m.negated, m.kind) for m in self.mentions), self.numbers, self.ops, self.regions,
                self.relations, self.sides, self.predicate_negation)


def typed_shape(query: str, two_images: bool = False) -> tuple:
    """What two queries must share for one's program to serve the other, names aside: each object
    mention's kind, polarity and whether it is a compound ('dog legs'), the numbers, comparisons, regions,
    relations, image sides and a negated predicate ('How many dogs?' vs 'How many dogs are not
    sleeping?', '... dogs and cats?', '... dog legs?' all differ)."""
    facts = read_query(query, two_images)
    return (tuple((m.kind, m.negated, m.compound) for m in facts.mentions), facts.numbers, facts.ops, facts.regions,
            facts.relations, facts.sides, facts.predicate_negation)


def tokens(text: str) -> list[str]:
    """Lowercase words; "people's" -> "people", "isn't" -> "isn" "t"; commas kept as tokens."""
    text = re.sub(r"'s\b", "", text.lower().replace("\u2019", "'"))
    return _TOKEN.findall(text.replace("-", " "))


def lookup(phrase: str) -> tuple[str, str] | None:
    """(name, kind) of a phrase the vocabulary knows exactly ('kittens' -> ('cat', 'object')), else None."""
    text = normalize(phrase)
    if not text:
        return None
    if means_face(text) or text in ("human face", "human faces"):
        return "face", "face"
    if text in PERSON_WORDS or singular(text) in PERSON_WORDS:
        return "person", "object"
    if text in EXTRA_SYNONYMS or singular(text) in EXTRA_SYNONYMS:
        return EXTRA_SYNONYMS.get(text) or EXTRA_SYNONYMS[singular(text)], "object"
    found = exact_class(text)
    if not found and (text in GROUPS or singular(text) in GROUPS):
        return text, "object"   # a group word ('animals', 'vehicles'): LOC finds all its classes, determiner or not
    if not found and text.count(" ") == 1 and len(text) > 6:
        return lookup(text.replace(" ", ""))   # a compound written apart: 'skate boards', 'tooth brush'
    return (found, "object") if found else None


def read_query(query: str, two_images: bool = False) -> QueryFacts:
    """The facts of ``query`` (see the module docstring)."""
    words = tokens(query)
    mentions = _mentions(words)
    mentions, predicate_negation = _polarity(words, mentions)
    numbers = _numbers(words)
    ops = _ops(words, {i for i, _ in numbers})
    return QueryFacts(query, tuple(words), tuple(mentions), tuple(v for _, v in numbers), ops, _regions(words, two_images),
                      _relations(words, mentions), _sides(words) if two_images else (), predicate_negation)


def _mentions(words: list[str]) -> list[Mention]:
    found: list[Mention] = []
    i = 0
    while i < len(words):
        hit = None
        for n in (3, 2, 1):
            span = words[i:i + n]
            if len(span) == n and not any(w in BOUNDARIES or w in NEGATIONS or w in ("or", "nor")
                                          or (n > 1 and w in _FUNCTION) for w in span):
                known = lookup(" ".join(span))
                if known and not (n == 1 and span[0] in _FUNCTION and span[0] not in ("top",)):
                    hit = (n, known)
                    break
        if hit is None:
            i += 1
            continue
        n, (name, kind) = hit
        end = i + n
        nxt = words[end] if end < len(words) else ""
        if kind == "object" and nxt and (lookup(nxt) or ("", ""))[1] == "face":
            i = end  # "people's faces", "dog's face": the face is the thing
            continue
        if kind == "object" and _is_noun(nxt) and nxt not in COLOURS and singular(words[end - 1]) == words[end - 1] \
                and not lookup(nxt) and not (words[0] in ("do", "does", "did") and not found):
            # ('the truck blue' in "make the truck blue" is a truck; 'does the person own': the subject's verb)
            text = " ".join(words[i:end + 1])   # 'dog legs': a part of a dog, not a dog
            found.append(Mention(text, text, i, end + 1, known=False, phrase=text, compound=True))
            i = end + 1
            continue
        if kind == "object" and nxt in TEXT_WORDS - {"time", "number", "name", "say", "says", "read"}:
            kind = "object"  # 'bus sign': the bus is still located, the sign read by OCR
        text = " ".join(words[i:end])
        found.append(Mention(text, name, i, end, kind=kind, phrase=_phrase(words, i, end)))
        i = end
    found += [Mention(w, "text", j, j + 1, kind="text") for j, w in enumerate(words) if w in TEXT_WORDS]
    found += _unknown_nouns(words, {i for m in found for i in range(m.start, m.end)})
    named = {m.name for m in found if m.known and not m.read_as}
    found = [replace(m, name=m.text, known=False, read_as="") if m.read_as == "meaning" and m.name in named else m
             for m in found]   # 'a dog without a collar': a word near a class the request names is a part of it
    return sorted(found, key=lambda m: m.start)


_DETERMINERS = frozenset(_LEX["determiners"])
_PLACES = frozenset(_LEX["place_prepositions"])
_SUBJECTS = frozenset(_LEX["predicate_subjects"])


def _unknown_nouns(words: list[str], taken: set[int]) -> list[Mention]:
    """Nouns outside the vocabulary right after a determiner ('a scarf', 'the telly'): open-vocabulary
    objects that a detector may or may not find (its affordance decides)."""
    found = []
    if words and words[0] in _LEX["edit_verbs"]:   # an edit's instrument ('put an emoji on ...') is no object
        tools = _INSTRUMENTS if taken else _INSTRUMENTS - _SCENE   # 'blur the background' alone: what it names
        taken = taken | {i for i, w in enumerate(words) if w in tools}
    for index, word in enumerate(words[:-1]):
        start = index + 1
        end = start
        while end < len(words) and end - start < 2 and end not in taken and _is_noun(words[end]) \
                and not (end > start and _last_colour(words, end)):   # 'make the jeep red': a jeep
            end += 1
        if word in _DETERMINERS and end > start and end not in taken:  # 'big brown dogs': adjectives
            text = " ".join(words[start:end])
            said_of = index > 0 and words[index - 1] in _PLACES | _SUBJECTS   # 'in the field', 'is he a pro'
            read = read_object_word(text) if end == start + 1 and not said_of else None   # 'a jogger', 'the catt'
            found.append(Mention(text, read.name, start, end, phrase=text, read_as=read.how) if read else
                         Mention(text, text, start, end, known=False, phrase=text))
            taken |= set(range(start, end))
    return found


def _last_colour(words: list[str], index: int) -> bool:
    """Whether ``words[index]`` is a colour said of what comes before it ('the jeep red', 'the jeep red or blue'),
    not one before a noun ('big brown dogs')."""
    return words[index] in COLOURS and words[index + 1:index + 2] in ([], [","], ["or"], ["and"], ["please"])


_VERBS = frozenset(_LEX["verbs"])


def _is_verb(word: str) -> bool:
    return word in _VERBS or (word.endswith("s") and word[:-1] in _VERBS) or \
        (word.endswith("es") and word[:-2] in _VERBS)


def _is_noun(word: str) -> bool:
    return bool(word) and not _is_verb(word) and word not in _FUNCTION and word not in BOUNDARIES and word not in NEGATIONS \
        and word not in IMAGE_WORDS and word not in NUMBER_WORDS and word not in TEXT_WORDS \
        and not word.isdigit() and not word.endswith(("ing", "ed", "ly")) and len(word) > 2 \
        and word not in ("or", "nor", "t", "s") and word not in _KEPT_STATES


_MODIFIER_START = frozenset(_LEX["modifier_starts"])
_KEPT_STATES = frozenset(_LEX["kept_states"])   # 'keep the dog sharp': no 'dog sharp' to find
_INSTRUMENTS = frozenset(_LEX["instrument_nouns"]) | frozenset(_LEX["marking_nouns"])
_SCENE = frozenset({"background", "backdrop", "surroundings", "foreground"}) & _INSTRUMENTS


def _instrument_follows(words: list[str], at: int) -> bool:
    """'mark the dog with a box', 'cover the face with a smiley': in an edit, 'with' + an instrument says how the
    object is edited, not which object it is; after 'replace' / 'swap', 'with' or 'for' names the new thing."""
    if words and words[0] in _LEX["swap_verbs"] and words[at] in ("with", "for"):
        return True
    if not words or words[0] not in _LEX["edit_verbs"] or words[at] != "with":
        return False
    rest = [w for w in words[at + 1:at + 5] if w not in _DETERMINERS and w not in COLOURS]
    return bool(rest) and rest[0] in _INSTRUMENTS


def _phrase(words: list[str], start: int, end: int) -> str:
    """The mention with a trailing modifier ('woman in the green coat'), at most 6 words."""
    if end < len(words) and words[end] in _MODIFIER_START and not _instrument_follows(words, end):
        stop = end + 1
        while stop < len(words) and stop - start < 7 and \
                words[stop] not in BOUNDARIES | NEGATIONS | {"or", "with", "into", "for", "to", "so"}:
            stop += 1
        tail = words[end:stop]
        if tail and tail[-1] not in _FUNCTION and not (set(tail) & (IMAGE_WORDS | {"this", "these"})):
            # ('in this kitchen' names the photo's scene, not a place that picks one object out)
            return " ".join(words[start:stop])
    before = words[start - 1] if start > 0 else ""
    colour = before if before in COLOURS else ""
    if not colour and end < len(words) and words[end] in COLOURS and (end + 1 == len(words) or words[end + 1] in (
            ",", "or", "and")) and start > 1 and words[start - 2] in ("is", "are", "was", "were"):
        colour = words[end]   # 'is the truck green' asks about a green truck
    return " ".join(filter(None, [colour, " ".join(words[start:end])]))


def _polarity(words: list[str], mentions: list[Mention]) -> tuple[list[Mention], bool]:
    """Mark mentions under a negation; report a negation that covers no mention."""
    negated_at: set[int] = set()
    open_negation, covered, dangling = False, False, False
    starts = {m.start: m for m in mentions}
    for index, word in enumerate(words):
        if word in NEGATIONS and not (word == "no" and index + 1 < len(words) and words[index + 1] in ("more", "fewer", "less")):
            if open_negation and not covered:
                dangling = True
            open_negation, covered = True, False
        elif word in BOUNDARIES and word not in ("than", "as"):
            if open_negation and not covered:
                dangling = True
            open_negation = False
        elif index in starts and starts[index].kind == "object" and open_negation:
            negated_at.add(index)
            covered = True
    if open_negation and not covered:
        dangling = True
    marked = [replace(m, negated=m.start in negated_at) for m in mentions]
    return marked, dangling


def _numbers(words: list[str]) -> list[tuple[int, int]]:
    """(word position, value) of the counted numbers."""
    found = []
    for index, word in enumerate(words):
        after = words[index + 1] if index + 1 < len(words) else ""
        before = words[index - 1] if index else ""
        if word.isdigit() and len(word) <= 4:
            found.append((index, int(word)))
        elif NUMBER_WORDS.get(word) is not None:
            if word == "one" and (not after or after in IMAGE_WORDS | _FUNCTION | {"of", "another", ","}
                                  or before in ("the", "this", "that", "which", "each", "every", "no", "any",
                                                "first", "second", "other", "last")):
                continue
            if word in ("two", "pair") and after in IMAGE_WORDS | {"of"} and after not in ("one", "ones"):
                continue
            if word in ("pair", "dozen") and before not in ("a", "one"):
                continue
            found.append((index, NUMBER_WORDS[word]))
    return found


def _ops(words: list[str], number_at: set[int]) -> tuple[str, ...]:
    """Comparison and arithmetic cues in order of appearance; a longer cue wins over a shorter one. A
    numeric cue ('at least') counts only when a counted number follows it."""
    taken = [False] * len(words)
    found: list[tuple[int, str]] = []
    for cue, op, numeric in _COMPARATIVES:
        size = len(cue.split())
        for start in range(len(words) - size + 1):
            if words[start:start + size] != cue.split() or any(taken[start:start + size]):
                continue
            if numeric != (start + size in number_at) and (numeric or cue in ("more", "fewer", "less")):
                continue
            if cue in ("over", "above", "under", "below", "just", "only") and not numeric:
                continue
            taken[start:start + size] = [True] * size
            found.append((start, op))
    return tuple(op for _, op in sorted(found))


def _regions(words: list[str], two_images: bool) -> tuple[str, ...]:
    found = []
    for index, word in enumerate(words):
        if word in ("left", "right", "top", "bottom", "upper", "lower"):
            after = words[index + 1:index + 3]
            if after[:1] == ["of"] or (after[:1] == ["side"] and after[1:2] == ["of"] and two_images):
                continue
            if two_images and word in ("left", "right"):
                continue
            if after[:1] and after[0] in ("hand", "half", "side", "corner", "part", "edge") and \
                    words[index + 2:index + 3] == ["of"] and words[index + 3:index + 5] and \
                    not set(words[index + 3:index + 5]) & IMAGE_WORDS:
                continue  # 'the left side of the bus' is a relation to the bus
            found.append({"upper": "TOP", "lower": "BOTTOM"}.get(word, word.upper()))
    return tuple(found)


def _relations(words: list[str], mentions) -> tuple[str, ...]:
    """Spatial relations to a named object ('left of the bus', 'under the table'), in order."""
    starts = {m.start for m in mentions if m.kind in ("object", "face")}
    found = []
    for cue, module in _RELATIONS:
        size = len(cue.split())
        for index in range(len(words) - size):
            if words[index:index + size] != cue.split():
                continue
            after = index + size + (words[index + size] in ("the", "a", "an", "this", "that"))
            if after in starts:
                found.append((index, module))
    return tuple(m for _, m in sorted(set(found)))


def _sides(words: list[str]) -> tuple[str, ...]:
    return tuple(w.upper() for w in words if w in ("left", "right", "first", "second")
                 for w in [{"first": "left", "second": "right"}.get(w, w)])
