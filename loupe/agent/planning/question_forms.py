"""Questions in the shapes people ask them, read as their plain question (issue 22): the reading
(``loupe.agent.planning.reading``) calls these on the request's words, and the planners see the plain form.

- a negated existence question is its positive one: 'there's no sheep, right?', 'are there no elephants',
  'I can't see any dogs', 'no horses here', "nobody's face is in this one" -> 'is there any sheep' ...
  (English answers a negative question by the fact: 'no, there isn't');
- a number said or stated is tested exactly: 'r there 2 faces', 'eight faces, correct?', 'I count two faces here',
  "there's just the one horse" -> 'are there exactly two faces' ...;
- a wh-word at the end comes first: 'the truck is what colour' -> 'what colour is the truck';
- a colour asked in a fragment: 'horse colour?', "tell me the bike's colour" -> 'what colour is the horse';
  'bike blue?' -> 'is the bike blue'; a colour said in a clause: 'a bike that is red' -> 'a red bike', 'how many
  horses are white' -> 'how many white horses';
- two counts compared in words: 'same number of X and Y', 'is the number of X the same as / bigger than Y' ->
  'are there as many X as Y' / 'are there more X than Y';
- a guess before the question, or a question that follows up another ('i think there's one truck? how many are
  there', 'is there any writing? if so what does it say'): the later question.

The words of each class are lists in ``lexicon.json`` (``negative_existence``, ``perception_claims``,
``equal_count_cues``, ``count_comparisons``, ``hedge_leads``, ``follow_up_links``, ...).
"""

from __future__ import annotations

import functools

from loupe.agent.planning.reading import COLOURS, lexicon
from loupe.tools.vocabulary import FACE_WORDS, GROUPS, exact_class, singular

_COPULAS = ("is", "are", "was", "were")
_COLOUR_NOUNS = ("colour", "color", "colours", "colors")
_ARTICLES = ("the", "a", "an", "this", "that", "these", "those", "my", "your", "their", "his", "her", "its")
_SPLITS = ("?", ",")
_PLACES = ("here", "there", "in", "on", "at", "around", "anywhere")
_FUNCTION = frozenset(lexicon()["query_function_words"]) | frozenset(lexicon()["yes_no_starts"])


@functools.lru_cache(maxsize=None)
def _phrases(key: str) -> tuple[tuple[str, ...], ...]:
    """A lexicon list of phrases as word tuples, longest first."""
    return tuple(sorted((tuple(p.split()) for p in lexicon()[key]), key=len, reverse=True))


def _starts(words, phrase) -> bool:
    return tuple(words[:len(phrase)]) == phrase


def _find(words, phrases) -> tuple[int, tuple[str, ...]] | None:
    """The first (position, phrase) where one of ``phrases`` occurs in ``words``."""
    for at in range(len(words)):
        for phrase in phrases:
            if _starts(words[at:], phrase):
                return at, phrase
    return None


def names_object(words) -> bool:
    """Whether ``words`` (articles aside) name an object Loupe knows: a class, a synonym, a group, a face, people."""
    text = " ".join(w for w in words if w not in _ARTICLES)
    lex = lexicon()
    return bool(text) and (exact_class(text) is not None or text in FACE_WORDS or singular(text) in GROUPS
                           or text in GROUPS or text in lex["synonyms"] or singular(text) in lex["synonyms"]
                           or text in lex["person_words"] or singular(text) in lex["person_words"])


def _count_number(word: str) -> bool:
    value = lexicon()["number_words"].get(word)
    return (word.isdigit() and len(word) <= 4) or (value is not None and word not in ("single", "pair", "dozen"))


# ---- on the tokens, before wrappers and tags are taken off ------------------------------------------

def mend_forms(words: list[str]) -> list[str]:
    """'phone no' -> 'phone number' (before 'no' is read as a tag or a negation), and the later question of a
    guess and a question, or of a question and its follow-up."""
    heads = frozenset(lexicon()["number_abbreviation_heads"])
    words = ["number" if w == "no" and i and words[i - 1] in heads else w for i, w in enumerate(words)]
    return _later_question(words)


def _later_question(words: list[str]) -> list[str]:
    """The question after a guess ('i think there's one truck? how many are there' -> 'how many trucks are
    there': what the guess names is what the question asks about) or after a question it follows up."""
    lex = lexicon()
    starts = lex["yes_no_starts"] | lex["wh_starts"]
    for at in range(len(words) - 2, 0, -1):
        if words[at] not in _SPLITS:
            continue
        head, tail = words[:at], words[at + 1:]
        link = next((p for p in _phrases("follow_up_links") if _starts(tail, p)), ())
        body = [w for w in tail[len(link):] if w not in _SPLITS]
        guessed = any(_starts(head, p) for p in _phrases("hedge_leads"))
        if body and body[0] in starts and (link or guessed) and not _echo(body):
            return _with_object_of(head, body) if guessed else body
    return words


def _echo(words: list[str]) -> bool:
    """A tag, no question of its own: 'is there', 'isn't it', 'is there one', 'am i right'."""
    lex = lexicon()
    return tuple(words) in lex["tag_questions"] or len(words) <= 3 and words[0] in lex["yes_no_starts"] and \
        set(words[1:]) <= {"there", "it", "they", "one", "not", "so", "i", "that", "right"}


def _without_echo(body: list[str]) -> list[str]:
    """A statement without the tag that echoes it: "there's no truck, is there", 'i see a horse, is there one'."""
    lex = lexicon()
    if len(body) <= 3 or body[0] in lex["yes_no_starts"] | lex["wh_starts"]:
        return body
    cut = next((at for at in (len(body) - 3, len(body) - 2) if _echo(body[at:])), None)
    if cut is None:
        return body
    body = body[:cut]
    while body and body[-1] == ",":
        body = body[:-1]
    return body


def _with_object_of(head: list[str], question: list[str]) -> list[str]:
    """``question`` about the object ``head`` names, when it names none itself ('how many are there')."""
    if any(names_object([w]) for w in question):
        return question
    named = [w for w in head if names_object([w])]
    if not named:
        return question
    if _starts(question, ("how", "many")):
        return question[:2] + [named[-1]] + question[2:]
    return [part for w in question for part in (["the", named[-1]] if w in ("it", "they", "them") else [w])]


# ---- on the main clause -----------------------------------------------------------------------------

def as_asked(words: list[str], asked: bool = False) -> list[str]:
    """The plain question of the clause ``words`` (see the module docstring); other clauses unchanged.
    ``asked``: the request ends with a question mark (a bare 'the bike blue?' asks; 'the bike blue' may order)."""
    body = [w for w in words if w != "?"]
    lex = lexicon()
    if body and body[0] in lex["edit_verbs"] and body[0] not in COLOURS:
        return _colour_clause(body)   # an edit names its object so too: 'zoom into the horse that is white'
    if not body or body[0] in lex["edit_verbs"] or any(_starts(body, p) for p in lex["want_wrappers"]):
        return words   # an edit, or a thing wanted (its own reading: 'I want the bike blue')
    body = _without_echo(body)
    hedge = next((p for p in _phrases("hedge_leads") if _starts(body, p)), ())
    if hedge and body[len(hedge):len(hedge) + 1] in (["there"], ["i"], ["the"]):
        body = body[len(hedge):]   # "i'm pretty sure i see a horse": the claim, verified
    body = _colour_fragment(_noun_asked(_without_scope(_wh_last(body))), asked)
    for form in (_compared_counts, _perceived, _negated_existence, _number_fragment, _presence_fragment,
                 _colour_clause, _choice_fragment, _exact_number):
        body = form(body)
    return body


def _without_scope(body: list[str]) -> list[str]:
    """'what colour is the tow truck in this shot' -> '... the tow truck': a phrase placing an object in the photo
    picks nothing out."""
    found = _find(body, _phrases("image_scope_phrases"))
    if found is None or found[0] == 0 or not names_object(body[found[0] - 1:found[0]]):
        return body
    return body[:found[0]] + body[found[0] + len(found[1]):]


def _noun_asked(body: list[str]) -> list[str]:
    """'what is the colour of the meter' -> 'what colour is the meter' (a noun question after 'what is')."""
    if body[:2] not in (["what", "is"], ["what", "are"]):
        return body
    rest = body[3:] if body[2:3] == ["the"] else body[2:]
    for noun, question in lexicon()["noun_questions"]:
        if _starts(rest, noun) and len(rest) > len(noun):
            return question + rest[len(noun):]
    return body


def _wh_last(body: list[str]) -> list[str]:
    """'the truck is what colour' -> 'what colour is the truck'; 'the number on the meter is what' -> 'what is
    the number on the meter'."""
    lex = lexicon()
    if body[0] in lex["wh_starts"] | lex["yes_no_starts"]:
        return body
    for at in range(1, len(body) - 1):
        if body[at] in _COPULAS and body[at + 1] in ("what", "which", "how"):
            return body[at + 1:] + [body[at]] + body[:at]
    return body


def _colour_fragment(body: list[str], asked: bool) -> list[str]:
    """'horse colour', "the bicycle's colour" (after a wrapper: 'tell me ...') -> 'what colour is the horse';
    'bike blue?' -> 'is the bike blue'."""
    head = next((p for p in lexicon()["question_wrappers"] if _starts(body, p)), ())
    rest = body[len(head):]
    if len(rest) >= 2 and rest[-1] in _COLOUR_NOUNS and names_object(rest[:-1]):
        noun = [w for w in rest[:-1] if w not in _ARTICLES]
        return ["what", "colour", "is", "the"] + noun
    if len(rest) >= 2 and rest[-1] in COLOURS and names_object(rest[:-1]) and (asked or rest[0] not in _ARTICLES):
        return ["is", "the"] + [w for w in rest[:-1] if w not in _ARTICLES] + [rest[-1]]
    return body


def _colour_clause(body: list[str]) -> list[str]:
    """A colour said in a clause after its object, read before it: 'is there a bike that is red' -> 'is there
    a red bike'; 'how many horses are white' -> 'how many white horses'."""
    if body[-1] not in COLOURS or len(body) < 4:
        return body
    colour = body[-1]
    if body[-2] in _COPULAS and body[-3] in ("that", "which", "who"):
        noun_end = len(body) - 3
    elif _starts(body, ("how", "many")) and body[-2] in _COPULAS and len(body) >= 5:
        noun_end = len(body) - 2
        if body[2:4] in (["of", "the"], ["of", "these"], ["of", "those"]):
            body = body[:2] + body[4:]
            noun_end -= 2
    else:
        return body
    start = noun_end - 1
    while start > 0 and body[start - 1] not in _ARTICLES + _COPULAS + ("there", "many", "any", "some"):
        start -= 1
    if not names_object(body[start:noun_end]):
        return body
    return body[:start] + [colour] + body[start:noun_end]


def _compared_counts(body: list[str]) -> list[str]:
    """'same number of X and Y' -> 'are there as many X as Y'; 'is the number of X bigger than (the number of)
    Y' -> 'are there more X than Y'."""
    lex = lexicon()
    found = _find(body, _phrases("equal_count_cues"))
    if found:
        at, cue = found
        pair = body[at + len(cue):]
        joint = next((i for i, w in enumerate(pair) if w in ("and", "as", "vs", "versus", "to")), None)
        if joint and joint < len(pair) - 1:
            return ["are", "there", "as", "many"] + pair[:joint] + ["as"] + pair[joint + 1:]
        return body
    counted = _find(body, _phrases("count_nouns"))
    if counted is None or not set(body[:counted[0]]) <= {"is", "the", "are", "was"}:
        return body
    after = body[counted[0] + len(counted[1]):]
    comparisons = sorted(((tuple(k.split()), v) for k, v in lex["count_comparisons"].items()), key=lambda kv: -len(kv[0]))
    for at in range(1, len(after)):
        for cue, relation in comparisons:
            if not _starts(after[at:], cue):
                continue
            first = [w for w in after[:at] if w not in _COPULAS]
            second = after[at + len(cue):]
            second = second[len(next((p for p in _phrases("count_nouns") if _starts(second[1:], p)), ())) + 1:] \
                if second[:1] == ["the"] and any(_starts(second[1:], p) for p in _phrases("count_nouns")) else second
            if second[:2] == ["that", "of"]:
                second = second[2:]
            if not first or not second:
                return body
            joint = ["as"] if relation == "as many" else ["than"]
            return ["are", "there"] + relation.split() + first + joint + second
    return body


def _perceived(body: list[str]) -> list[str]:
    """'I count two faces here', 'I see a dog' -> 'are there two faces here', 'is there a dog'."""
    claim = next((p for p in _phrases("perception_claims") if _starts(body, p)), None)
    rest = body[len(claim):] if claim else []
    if not rest or not (names_object(rest[1:2]) or names_object(rest[:1]) or _count_number(rest[0])):
        return body
    return (["is"] if rest[0] in ("a", "an", "one") else ["are"]) + ["there"] + rest


def _negated_existence(body: list[str]) -> list[str]:
    """'there is no sheep', 'are there no elephants', 'I can't see any dogs', 'no horses here', 'nobody face
    is in this one' -> 'is there any sheep', ..., 'is there any face in this one'. Only a denial of the whole
    question: 'is there a dog but no cat' keeps its negation."""
    found = next((p for p in _phrases("negative_existence") if _starts(body, p)), None)
    if found is None:
        return body
    rest = body[len(found):]
    if rest[:1] in (["any"], ["a"], ["an"]):
        rest = rest[1:]
    noun_end = next((i for i in range(len(rest), 0, -1) if names_object(rest[:i])), 0)
    if noun_end == 0 and found in (("nobody",), ("no", "one")) and rest[:1] and rest[0] in _COPULAS:
        return ["is", "there", "anyone"] + rest[1:]   # 'no one is in the picture' -> 'is there anyone in the picture'
    if noun_end == 0 and rest[:1] and rest[0].isalpha() and rest[0] not in _FUNCTION and (
            len(rest) == 1 or rest[1] in _PLACES):   # 'no birdies in here': a noun Loupe may map later
        noun_end = 1
    if noun_end == 0 or set(rest) & (set(lexicon()["negations"]) | {"but", "and", "or", "than"}):
        return body
    if found in (("nobody",), ("no", "one")) and not names_object(rest[:noun_end]):
        return body
    tail = rest[noun_end:]
    if tail[:1] and tail[0] in _COPULAS:   # 'no face is in this one' -> 'is there any face in this one'
        tail = tail[1:]
    copula = "are" if rest[noun_end - 1] != singular(rest[noun_end - 1]) else "is"
    return [copula, "there", "any"] + rest[:noun_end] + tail


def _presence_fragment(body: list[str]) -> list[str]:
    """'skateboard present', 'any bikes around' -> 'is there a skateboard', 'are there any bikes'."""
    found = next((p for p in _phrases("presence_words") if len(body) > len(p) and tuple(body[-len(p):]) == p), None)
    if found is None:
        return body
    noun = body[:-len(found)]
    noun = noun[1:] if noun[:1] == ["any"] else noun
    if not names_object(noun) or noun[0] in lexicon()["yes_no_starts"]:
        return body
    return ["are", "there", "any"] + noun if noun[-1] != singular(noun[-1]) else ["is", "there", "a"] + noun


def _choice_fragment(body: list[str]) -> list[str]:
    """'the truck, white or black' -> 'is the truck white or black'; 'is the bike red or is it blue' -> 'is the bike
    red or blue' (the choice asked once)."""
    if "or" not in body:
        return body
    at = body.index("or")
    if body[at + 1:at + 2] and body[at + 1] in _COPULAS and body[at + 2:at + 3] in (["it"], ["they"], ["he"], ["she"]):
        body = body[:at + 1] + body[at + 3:]
    colours = body[at - 1:at] + body[at + 1:at + 2]
    lex = lexicon()
    if len(colours) == 2 and set(colours) <= set(COLOURS) and body[0] not in lex["yes_no_starts"] | lex["wh_starts"]:
        noun = [w for w in body[:at - 1] if w != ","]
        if names_object(noun):
            return ["is"] + (noun if noun[0] in _ARTICLES else ["the"] + noun) + body[at - 1:]
    return body


def _number_fragment(body: list[str]) -> list[str]:
    """'eight faces' (a fragment asked, often with a tag) -> 'are there eight faces'; 'only the one bird in it' ->
    'are there only the one bird in it'."""
    lead = next((len(p) for p in (("just", "the"), ("only", "the"), ("just",), ("only",)) if _starts(body, p)), 0)
    if lead and len(body) > lead + 1 and _count_number(body[lead]) and names_object(body[lead + 1:lead + 2]):
        return ["are", "there"] + body
    if len(body) >= 2 and _count_number(body[0]) and (names_object(body[1:2]) or names_object(body[1:3])):
        return ["are", "there"] + body
    return body


def _exact_number(body: list[str]) -> list[str]:
    """A number in an existence question with no comparison is exact: 'are there 2 faces' -> 'are there exactly
    2 faces'; 'is there just the one horse' -> 'is there exactly one horse'."""
    if body[:2] not in (["is", "there"], ["are", "there"], ["there", "is"], ["there", "are"]):
        return body
    comparatives = {w for cue, _, _ in lexicon()["comparatives"] for w in cue.split()}
    for at in range(2, len(body) - 1):
        if body[at:at + 3] in (["just", "the", "one"], ["only", "the", "one"]):
            return body[:at] + ["exactly", "one"] + body[at + 3:]
        if _count_number(body[at]) and not (body[at] == "one" and not names_object(body[at + 1:at + 2])):
            if set(body[2:at]) & comparatives or set(body[at + 1:]) & {"or", "more", "less", "fewer", "plus"}:
                return body
            return body[:at] + ["exactly"] + body[at:]
    return body
