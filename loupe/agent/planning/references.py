"""Follow-ups in a conversation: what a request's words refer to in the turns before it, read as part of the
typed reading of the request (``loupe.agent.planning.reading``), never by rewriting its text.

``resolve("blur them", context)`` with the last turn having located dogs -> a ``Followup`` whose reading is
that of "blur the dogs", with one ``Reference`` (kind ``objects``, the word span of "them", referent
"the dogs"). The kinds:

- ``objects``: "them / they / those / these", and "it" as an edit's object -> the objects the last program
  located; "the other one" -> the other side of the thing the last question was about ('the left dog');
- ``image``: "the original", "the first / second photo", "the previous version", "the other photo" -> an
  earlier image of the conversation; a request that only names one ("use the first photo again") switches;
- ``undo``: "undo", "go back" -> the image before the current one;
- ``ellipsis``: "and cats?", "what about the left one?" -> the last question, about the new thing;
- ``both``: "both photos", "the left image" -> a statement about the conversation's two photos.

A reference that cannot be resolved (nothing located yet, no earlier question, no second photo, nothing to
undo) makes ``Followup.unresolved`` say which words and why: the person is asked, nothing is guessed.
The words live in ``lexicon.json`` (the ``ref_*`` keys), as data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from loupe.agent.planning.reading import Reading, lexicon, read_request
from loupe.tools.vocabulary import _IRREGULAR_PLURALS, singular

OBJECTS, IMAGE, UNDO, ELLIPSIS, BOTH = "objects", "image", "undo", "ellipsis", "both"
_ARTICLES = ("the", "a", "an", "some", "any")
_SIDES = {"left": "right", "right": "left", "top": "bottom", "bottom": "top", "front": "back", "back": "front",
          "upper": "lower", "lower": "upper", "first": "second", "second": "first"}
_PLURALS = {one: many for many, one in _IRREGULAR_PLURALS.items() if one != many}


@functools.lru_cache(maxsize=1)
def words() -> dict:
    """The ``ref_*`` word classes of the lexicon: phrases as word tuples (longest first), sets of words."""
    lex = lexicon()
    data = {key: lex[key] for key in lex if key.startswith("ref_")}
    for key in ("ref_other", "ref_undo", "ref_switch_verbs", "ref_ellipsis_leads", "ref_two_images"):
        data[key] = tuple(sorted((tuple(p.split()) for p in data[key]), key=len, reverse=True))
    for key in ("ref_plural_pronouns", "ref_singular_pronouns", "ref_image_nouns", "ref_place_words",
                "ref_ellipsis_after"):
        data[key] = frozenset(data[key])
    return data


@dataclass(frozen=True)
class Context:
    """What the conversation holds, as a follow-up's reading needs it. ``objects``: the phrases the last
    program located ('dog', 'face'); ``images``: a label per image, in the order they came (originals and
    edits); ``originals``: the indexes of the images the person gave; ``current``: the image the next turn
    works on; ``previous``: the one before it (what undo restores), None at the start; ``question``: the
    words of the last question's reading; ``subject``: the object phrase that question was about."""

    objects: tuple[str, ...] = ()
    images: tuple[str, ...] = ("the photo",)
    originals: tuple[int, ...] = (0,)
    current: int = 0
    previous: int | None = None
    question: tuple[str, ...] = ()
    subject: str = ""


@dataclass(frozen=True)
class Reference:
    """Words of the request (``span``: their positions in the words being read) that refer to an earlier turn:
    ``kind`` (see the module docstring), what they were resolved to (``referent``: words of the new
    reading; ``image``: the image index they name)."""

    kind: str
    span: tuple[int, int]
    words: tuple[str, ...]
    referent: str = ""
    image: int | None = None
    unresolved: str = ""   # why it cannot be resolved: the question the person is asked

    def as_dict(self) -> dict:
        return {"kind": self.kind, "words": " ".join(self.words), "referent": self.referent, "image": self.image,
                "unresolved": self.unresolved or None}

    def cannot(self, why: str) -> Reference:
        return replace(self, unresolved=f"which thing does {' '.join(self.words)!r} mean? {why}")


@dataclass(frozen=True)
class Followup:
    """A request read in its conversation. ``reading``: what the planners read (references resolved, and
    listed in its ``references``; its ``text`` is what was typed); ``image``: the image the turn is about;
    ``two_images``: a statement about both photos; ``undo`` / ``switch``: the turn only restores the previous
    image / chooses an image; ``unresolved``: why a reference could not be resolved ('' when all were)."""

    reading: Reading
    image: int = 0
    two_images: bool = False
    undo: bool = False
    switch: bool = False
    unresolved: str = ""

    @property
    def references(self) -> tuple[Reference, ...]:
        return self.reading.references

    @property
    def query(self) -> str:
        """The request the planners get: as typed when it refers to nothing earlier (so a planner, the cache
        and a text target such as quoted words see what the user wrote), else the resolved clause."""
        return self.reading.clause if self.reading.references else self.reading.text


def resolve(text: str, context: Context) -> Followup:
    """The reading of ``text`` in ``context`` (see the module docstring)."""
    reading = read_request(text)
    body = list(reading.words)
    lex = words()
    plain = [w for w in body if w not in ("please", ",")]
    if any(tuple(plain) == phrase for phrase in lex["ref_undo"]):
        ref = Reference(UNDO, (0, len(body)), tuple(body))
        if context.previous is None:
            ref = ref.cannot("there is no earlier image to go back to in this conversation")
            return Followup(_with(reading, ref), context.current, unresolved=ref.unresolved)
        ref = replace(ref, image=context.previous, referent=context.images[context.previous])
        return Followup(_with(reading, ref), context.previous, undo=True)
    found = _image_reference(body, context)
    if found is not None:
        ref, rest = found
        if ref.unresolved:
            return Followup(_with(reading, ref), context.current, unresolved=ref.unresolved)
        if not _content(rest, lex["ref_switch_verbs"]):
            return Followup(_with(reading, ref), ref.image, switch=True)
        refs, image, body = [ref], ref.image, rest
    else:
        refs, image = [], context.current
    ellipsis = _ellipsis(reading, body, context)
    if ellipsis is not None:
        ref, body = ellipsis
        refs.append(ref)
    else:
        body, pronouns = _pronouns(reading, body, context)
        refs += pronouns
    two = len(context.originals) == 2 and _has(body, lex["ref_two_images"])   # the two photos given
    if two:
        refs.append(Reference(BOTH, (0, 0), (), "the two photos"))
    missing = next((r for r in refs if r.unresolved), None)
    if missing is not None:
        return Followup(_with(reading, *refs), image, unresolved=missing.unresolved)
    if not refs:
        return Followup(reading, image)
    resolved = read_request(" ".join(body) + ("?" if reading.act == "question" else ""))
    return Followup(replace(_with(resolved, *refs), text=text), image, two_images=two)


def _with(reading: Reading, *refs: Reference) -> Reading:
    return replace(reading, references=tuple(refs))


# ---- images ----------------------------------------------------------------------------------------

def _image_reference(body: list[str], context: Context) -> tuple[Reference, list[str]] | None:
    """'the original', 'the first photo', 'the previous version', 'the other photo': the reference and the
    words left once it (and a place word before it: 'in the original') is taken out."""
    lex = words()
    for index, word in enumerate(body):
        ordinal = lex["ref_ordinals"].get(word)
        other = word == "other" and index + 1 < len(body) and body[index + 1] in lex["ref_image_nouns"] - {"one"}
        if ordinal is None and not other:
            continue
        noun = index + 1 < len(body) and body[index + 1] in lex["ref_image_nouns"]
        if word != "original" and not noun:
            continue   # 'the first dog' names a dog, not an image
        start = index - (index > 0 and body[index - 1] in ("the", "my", "this", "that"))
        start -= start > 0 and body[start - 1] in lex["ref_place_words"]
        end = index + 1 + noun
        span = tuple(body[start:end])
        ref = Reference(IMAGE, (start, end), span)
        image, why = _which_image(word, ordinal, context)
        ref = replace(ref, image=image, referent=context.images[image]) if image is not None else ref.cannot(why)
        rest = body[:start] + body[end:]
        while end == len(body) and rest and rest[-1] in ("is", "are", "was", "were"):
            rest.pop()   # 'how many dogs are in the original' -> 'how many dogs'
        return ref, rest
    return None


def _which_image(word: str, ordinal: int | None, context: Context) -> tuple[int | None, str]:
    if word == "other":
        if len(context.originals) != 2:
            return None, "this conversation has one photo, not two"
        return next(i for i in context.originals if i != context.current), ""
    if ordinal is not None and ordinal < 0:
        if context.previous is None:
            return None, "there is no earlier image in this conversation"
        return context.previous, ""
    if ordinal is not None and ordinal >= len(context.originals):
        return None, f"this conversation has {len(context.originals)} photo(s)"
    return context.originals[ordinal or 0], ""


# ---- pronouns ----------------------------------------------------------------------------------------

def _pronouns(reading: Reading, body: list[str], context: Context) -> tuple[list[str], list[Reference]]:
    """'them', 'those' (standing alone), 'it' as an edit's object, 'the other one' -> the located objects."""
    lex = words()
    out: list[str] = []
    refs: list[Reference] = []
    index = 0
    while index < len(body):
        other = next((p for p in lex["ref_other"] if tuple(body[index:index + len(p)]) == p), None)
        if other is not None:
            ref = Reference(OBJECTS, (index, index + len(other)), other, _other_one(context))
            refs.append(ref if ref.referent else ref.cannot("no earlier question named one of two sides"))
            out += ref.referent.split() or list(other)
            index += len(other)
            continue
        word = body[index]
        alone = index + 1 >= len(body) or body[index + 1] in lexicon()["neutral_predicates"] or \
            body[index + 1] in ("too", "as", "also", "again", "in", "on", "with", "and", "please", "out", "up")
        plural = word in lex["ref_plural_pronouns"] and (alone or word in ("them", "they"))
        singular_object = word in lex["ref_singular_pronouns"] and reading.act == "edit" and index == 1 \
            and alone and len(context.objects) == 1   # 'blur it'; 'make it black and white' is the photo
        if plural or singular_object:
            ref = Reference(OBJECTS, (index, index + 1), (word,), _objects(context, plural))
            refs.append(ref if ref.referent else ref.cannot("the last request found nothing it could "
                                                            "mean; name it (e.g. 'blur the faces')"))
            out += ref.referent.split() or [word]
        else:
            out.append(word)
        index += 1
    return out, refs


def _objects(context: Context, plural: bool) -> str:
    if not context.objects:
        return ""
    names = [_plural(o) if plural else o for o in context.objects]
    return " and ".join(f"the {name}" for name in names)


def _other_one(context: Context) -> str:
    """'the other one' after a question about 'the left dog' -> 'the right dog'."""
    question = list(context.question)
    for index, word in enumerate(question):
        if word in _SIDES and context.subject:
            return f"the {_SIDES[word]} {context.subject}"
    return ""


def _plural(phrase: str) -> str:
    head, _, last = phrase.rpartition(" ")
    if singular(last) != last:
        return phrase
    many = _PLURALS.get(last) or (last + "es" if last.endswith(("s", "x", "ch", "sh")) else last + "s")
    return f"{head} {many}".strip()


# ---- ellipsis --------------------------------------------------------------------------------------

def _ellipsis(reading: Reading, body: list[str], context: Context) -> tuple[Reference, list[str]] | None:
    """'and cats?', 'what about the left one?': the last question's words with its subject replaced by the
    new phrase (None when the request is not elliptical)."""
    lex = words()
    lead = next((p for p in lex["ref_ellipsis_leads"] if tuple(body[:len(p)]) == p), None)
    after_and = bool(reading.dropped) and reading.dropped[-1] in lex["ref_ellipsis_after"]
    rest = body[len(lead):] if lead else body
    other = any(tuple(rest) == phrase for phrase in lex["ref_other"])   # '(and) the other one?'
    if not rest or (lead is None and not after_and and not other) or not _noun_phrase(rest):
        return None
    ref = Reference(ELLIPSIS, (0, len(body)), tuple(body))
    if not context.question or not context.subject:
        return ref.cannot("it continues an earlier question, but none was asked in this conversation yet; "
                          "ask the whole question"), []
    if other and not _other_one(context):
        return ref.cannot("no earlier question named one of two sides"), []
    new = [w for w in (_other_one(context).split() if other else rest) if w not in _ARTICLES]
    subject = context.subject.split()
    if "one" in new or "ones" in new:   # 'the left one' -> 'left <subject>'
        new = [w for w in new if w not in ("one", "ones")] + subject
    question = list(context.question)
    at = _find(question, subject)
    if at is None:
        return ref.cannot(f"the last question's subject {context.subject!r} is not in its words; ask the whole "
                          "question"), []
    start, end = at
    if question[end - 1] == _plural(question[end - 1]) and question[end - 1] != singular(question[end - 1]):
        new[-1] = _plural(new[-1])
    elif new[-1] != singular(new[-1]) and not question[start - 1:start] == ["the"]:
        new[-1] = singular(new[-1])
    while start > 0 and question[start - 1] in _SIDES and question[start - 1] not in new:
        start -= 1   # 'the left dog' -> 'the right dog', not 'the left right dog'
    resolved = question[:start] + new + question[end:]
    return replace(ref, referent=" ".join(resolved)), resolved


def _noun_phrase(rest: list[str]) -> bool:
    """Words with no verb of their own: an object, maybe with a side or a colour ('the left one', 'cats')."""
    lex = lexicon()
    first = rest[0]
    return not (first in lex["edit_verbs"] or first in lex["wh_starts"] or first in lex["yes_no_starts"]
                or first in ("count", "there", "it", "them")) and len(rest) <= 4


def _find(words_: list[str], phrase: list[str]) -> tuple[int, int] | None:
    size = len(phrase)
    for start in range(len(words_) - size + 1):
        if [singular(w) for w in words_[start:start + size]] == [singular(w) for w in phrase]:
            return start, start + size
    return None


def _has(body: list[str], phrases) -> bool:
    joined = " " + " ".join(body) + " "
    return any(" " + " ".join(p) + " " in joined for p in phrases)


def _content(rest: list[str], fillers) -> bool:
    """Whether ``rest`` says anything beyond switching ('use ... again', 'go back to ...')."""
    flat = {w for p in fillers for w in p}
    return any(w not in flat and w not in _ARTICLES for w in rest)


def subject_of(reading: Reading) -> str:
    """The object phrase a question is about (its first object word: 'how many dogs are there' -> 'dog'),
    what an elliptical follow-up replaces; '' when it names none."""
    from loupe.agent.planning.coverage import content_words

    found = [word for _, word, kind in content_words(reading) if kind == "object"]
    return singular(found[0]) if found else ""
