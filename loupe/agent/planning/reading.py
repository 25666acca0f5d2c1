"""Read a request the way people write it: the main clause under courtesy and indirect wrappers, chat
spelling and typos mended, and what the request is (a question or an edit) and what it wants back.

``read_request("Would you mind counting the cups, pls?")`` -> clause ``count the cups``, act ``question``,
answer ``number``; ``read_request("I need the faces hidden")`` -> clause ``hide the faces``, act ``edit``;
``read_request("is the car red or white")`` -> answer ``choice`` with choices ``red``, ``white``.

The words live in ``lexicon.json`` beside this module (data, not code), one list per *class* of wording:
wrappers taken off the front (``lead_wrappers``; ``question_wrappers`` only when a question follows
them), wrappers taken off the end, chat spellings, edit verbs, past participles ("I want the car gone"),
and the verbs whose gerunds follow "would you mind". A word outside every vocabulary that the English
dictionary of pyspellchecker does not know either is mended to the closest word Loupe knows (an object
class, a colour, an edit verb), and the mending is reported. The reading never drops a content word:
whatever it takes off is a wrapper of the lexicon, and ``dropped`` lists it. Questions asked in other shapes
('there's no sheep, right?', 'the truck is what colour', 'same number of X and Y?') are read as their plain
question by ``loupe.agent.planning.question_forms``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from loupe.tools.vocabulary import GROUPS, _IRREGULAR_PLURALS, _WORD_TO_CLASS, FACE_WORDS

_TOKEN = re.compile(r"[a-z0-9]+|,|\?")
_AUX = ("is", "are", "was", "were", "has", "have", "can", "could", "does", "do", "did", "will", "would", "should")
_AUX_SET = frozenset(_AUX)
_REQUEST_MODALS = frozenset({"can", "could", "would", "will"})   # 'can the X be blurred?' asks for an edit


@functools.lru_cache(maxsize=1)
def lexicon() -> dict:
    """The lexicon (``lexicon.json``), read once; phrase lists become tuples of word tuples, longest first."""
    data = json.loads((Path(__file__).with_name("lexicon.json")).read_text(encoding="utf-8"))
    for key in ("lead_wrappers", "question_wrappers", "trail_wrappers", "want_wrappers", "passive_links",
                "count_cues", "describe_cues", "tag_questions", "vanish_verbs", "result_subjects", "result_looks",
                "only_fragments", "trail_hedges"):
        data[key] = tuple(sorted((tuple(p.split()) for p in data[key]), key=len, reverse=True))
    for key in ("edit_verbs", "gerund_verbs", "yes_no_starts", "wh_starts", "neutral_predicates",
                "after_wrapper_links", "text_cues", "removal_verbs"):
        data[key] = frozenset(data[key])
    data["gerunds"] = {_gerund(v): v for v in data["gerund_verbs"]}
    data["gerunds"].update({v + "ling": v for v in data["gerund_verbs"] if v.endswith("el")})   # British 'labelling'
    data["absence_wishes"] = tuple((tuple(a.split()), tuple(b.split())) for a, b in data["absence_wishes"])
    verbs = data["edit_verbs"] - {"black"}
    data["participles"] = {**{_participle(v): v for v in verbs}, **data["irregular_participles"], **data["participles"]}
    for key in ("noun_questions", "wanted_nouns"):
        data[key] = sorted(((tuple(k.split()), v.split()) for k, v in data[key].items()), key=lambda kv: -len(kv[0]))
    return data


def _participle(verb: str) -> str:
    """The regular past participle: 'pop' -> 'popped', 'erase' -> 'erased', 'tint' -> 'tinted'."""
    if verb.endswith("e"):
        return verb + "d"
    if len(verb) <= 4 and re.fullmatch(r"[^aeiou]*[aeiou][bdgklmnprt]", verb):
        return verb + verb[-1] + "ed"
    return verb + "ed"


def _gerund(verb: str) -> str:
    if verb in ("see", "be"):
        return verb + "ing"
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    if len(verb) <= 4 and re.fullmatch(r"[^aeiou]*[aeiou][bdgklmnprt]", verb):  # blur -> blurring, tag -> tagging
        return verb + verb[-1] + "ing"
    return verb + "ing"


COLOURS: tuple[str, ...] = tuple(lexicon()["colours"])   # the colour words every part of planning reads


@dataclass(frozen=True)
class Reading:
    """``clause``: the main clause, mended (what the planners read); ``act``: question | edit; ``answer``:
    number | yesno | choice | colour | text | image; ``choices``: a choice question's options ('red or
    white' -> ('red', 'white')); ``dropped``: the wrapper words taken off; ``corrections``: (typed, read);
    ``removal``: the edit takes something out of the photo."""

    text: str
    clause: str
    words: tuple[str, ...]
    act: str
    answer: str
    choices: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    corrections: tuple[tuple[str, str], ...] = ()
    removal: bool = False   # an edit that takes something out ('remove / erase X', 'get rid of X', 'take X out')
    references: tuple = ()  # a follow-up's words that refer to earlier turns, resolved (agent.planning.references)

    @property
    def describes(self) -> bool:
        """The request asks for a description of the photo ('describe it', 'what is happening here')."""
        return _has_phrase(self.words, lexicon()["describe_cues"])


@functools.lru_cache(maxsize=4096)
def read_request(text: str) -> Reading:
    """The reading of ``text`` (see the module docstring)."""
    from loupe.agent.planning.question_forms import as_asked, mend_forms   # it reads this module's lexicon
    raw = _tokens(text)
    words, corrections = _mend(raw)
    words = mend_forms(words)
    words = [w for w in words if w != "?"] if words.count("?") <= 1 else words
    words, context = _after_context(words)
    words = _absence_wish(_only_fragment(words))
    words, dropped = _unwrap(words)
    words, tagged = _untag(words)
    words = _made_to_vanish(words)
    asked = as_asked(words, text.rstrip().endswith("?"))
    dropped += [w for w in words if w not in asked and w not in ("?", ",")]   # a denial, a hedge, an echo tag
    words = asked
    words = _noun_question(_desire_to_imperative(_described_result(_wanted_noun(_pointed_edit(words)))))
    words = _colour_choice_typos(words)
    words = _verify(words) if tagged or _is_statement(words) else words
    dropped = context + dropped + list(tagged)
    clause = " ".join(w for w in words if w != "?")
    act, answer, choices = _intent(words)
    body = [w for w in words if w != "?"]
    return Reading(text, clause, tuple(body), act, answer, choices, tuple(dropped), tuple(corrections),
                   act == "edit" and _removal(body))


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\b(there|it|that|what|here|who|where|how|this)'s\b", r"\1 is", text)
    text = re.sub(r"\b(what|which) (\w+)'s(?= (?:the|a|an|on|in|at|it|this|that|there|its|their|his|her|my|your)\b|"
                  r"\s*[?.!]*$)", r"\1 \2 is", text)   # "what colour's the bike"; not "what bank's name"
    text = re.sub(r"\b(can|won)'t\b", lambda m: {"can": "can not", "won": "will not"}[m.group(1)], text)
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"n't\b", " not", text)
    return _TOKEN.findall(text.replace("-", " ").replace("'", " "))


# ---- chat spelling and typos -------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def known_words() -> frozenset:
    """Every word Loupe reads on purpose: the object vocabulary (with plurals), group words, colours, face
    words and every word of the lexicon."""
    lex = lexicon()
    found = set(COLOURS) | set(_IRREGULAR_PLURALS) | set(_IRREGULAR_PLURALS.values())
    for phrase in list(_WORD_TO_CLASS) + list(GROUPS) + list(FACE_WORDS):
        for word in phrase.split():
            found |= {word, word + "s", word + "es"}
    for key, value in lex.items():
        if key.startswith("_"):
            continue
        items = value.items() if isinstance(value, dict) else value
        for item in items:
            for part in (item if isinstance(item, (tuple, list)) else (item,)):
                if isinstance(part, str):   # not an operator's flag or a number's value
                    found |= set(part.split())
    return frozenset(found)


@functools.lru_cache(maxsize=1)
def _content_targets() -> frozenset:
    """Words a typo may be mended to: object words (with plurals) and colours."""
    targets = set(COLOURS)   # no verbs: a verb mended wrongly changes the whole request
    for phrase in list(_WORD_TO_CLASS) + list(GROUPS):
        if " " not in phrase and len(phrase) >= 3:
            targets |= {phrase, phrase + "s"}
    targets |= {"people", "person"}
    return frozenset(targets)


@functools.lru_cache(maxsize=1)
def _structure_targets() -> frozenset:
    """Words a typo one edit away may be mended to besides objects and colours: the edit verbs, the words of the
    count cues ('mnay' -> 'many') and of many-word object names ('parkng meter'). Only one edit: a verb mended
    wrongly changes the whole request."""
    lex = lexicon()
    words = {w for w in lex["edit_verbs"] if len(w) >= 4}
    words |= {w for phrase in lex["count_cues"] for w in phrase if len(w) >= 4}
    words |= {w for phrase in list(_WORD_TO_CLASS) + list(GROUPS) if " " in phrase for w in phrase.split() if len(w) >= 4}
    return frozenset(words)


@functools.lru_cache(maxsize=1)
def _dictionary():
    try:
        from spellchecker import SpellChecker
    except ImportError:  # without the dictionary, no typo is mended (reading still works)
        return None
    return SpellChecker(distance=2)


def _mend(words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    chat = lexicon()["chat"]
    out: list[str] = []
    corrections = []
    known = known_words()
    for index, word in enumerate(words):
        if word in chat and not (word in ("c", "b", "n", "w", "k") and _single_letter_is_content(words, index)):
            out += chat[word].split()
            if chat[word] != word:
                corrections.append((word, chat[word]))
            continue
        if word in known or len(word) < 4 or not word.isalpha():
            out.append(word)
            continue
        mended = (_leading_verb(word) if not out or out[-1] in ("please", "pls", "kindly", ",") else None) \
            or _typo(word)
        if mended and mended != word:
            corrections.append((word, mended))
        out.append(mended or word)
    return out, corrections


@functools.lru_cache(maxsize=512)
def _leading_verb(word: str) -> str | None:
    """A misspelt first word is read as the edit verb one edit away before any object ('lable the person' is
    'label', not 'table'): a request opens with its verb far more often than with a bare noun."""
    dictionary = _dictionary()
    if dictionary is None or dictionary.known([word]):
        return None
    close = sorted(v for v in lexicon()["edit_verbs"] if len(v) >= 4 and _distance(word, v) == 1)
    return close[0] if len(close) == 1 else None


def _single_letter_is_content(words, index) -> bool:
    """'plan b', 'a b c': a single letter between other single letters or after a noun is not chat."""
    return any(len(w) == 1 and w.isalpha() and w not in ("a", "i") for w in words[max(0, index - 1):index] +
               words[index + 1:index + 2])


@functools.lru_cache(maxsize=2048)
def _typo(word: str) -> str | None:
    """The vocabulary word a misspelling means, or None when the word is a real word or no close one is known."""
    dictionary = _dictionary()
    if dictionary is None or dictionary.known([word]):
        return None
    targets = _content_targets()
    candidates = dictionary.candidates(word) or set()
    limit = 1 if len(word) < 7 else 2
    ours = sorted(c for c in candidates if c in targets and _distance(word, c) <= limit)
    if ours:
        plural = word.endswith(("s", "z"))   # 'dogz' is chat for dogs
        return min(ours, key=lambda c: (_distance(word, c), c.endswith("s") != plural,
                                        -dictionary.word_usage_frequency(c), c))
    close = [t for t in targets if abs(len(t) - len(word)) <= limit and t[0] == word[0] and _distance(word, t) <= limit]
    close = close or [t for t in _structure_targets() if t[0] == word[0] and _distance(word, t) == 1]
    return min(close, key=lambda c: (_distance(word, c), c)) if close else None


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of two neighbours is one edit)."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


# ---- wrappers ----------------------------------------------------------------------------------

def _starts(words, phrase) -> bool:
    return tuple(words[:len(phrase)]) == phrase


def _has_phrase(words, phrases) -> bool:
    joined = " " + " ".join(words) + " "
    return any(" " + " ".join(p) + " " in joined for p in phrases)


def _questionish(words) -> bool:
    lex = lexicon()
    first = words[0] if words else ""
    noun = words[1:] if first == "the" else words
    return first in lex["wh_starts"] or first in lex["after_wrapper_links"] or first in lex["yes_no_starts"] \
        or first == "there" or _starts(words, ("the", "number", "of")) or _starts(words, ("the", "count", "of")) \
        or any(_starts(noun, n) and len(noun) > len(n) for n, _ in lex["noun_questions"])


def _unwrap(words: list[str]) -> tuple[list[str], list[str]]:
    """Take courtesy and indirect wrappers off both ends (repeatedly), turn an embedded question into a
    direct one ('if there is a dog' -> 'is there a dog') and a gerund after 'mind' into its verb."""
    lex = lexicon()
    dropped: list[str] = []
    changed = True
    while changed and words:
        changed = False
        while words and words[0] == ",":
            words = words[1:]
        lead = next((p for p in lex["lead_wrappers"] if _starts(words, p) and words[len(p):][:1] not in ([], ["?"])), ())
        question = next((p for p in lex["question_wrappers"] if _starts(words, p) and _questionish(_skip_commas(
            words[len(p):]))), ())
        if question and len(question) >= len(lead):   # the longest wrapper: 'i d like to know' over 'i d like to'
            dropped += question
            words = _direct(_skip_commas(words[len(question):]))
            changed = True
            continue
        if lead:
            dropped += lead
            words = words[len(lead):]
            if words and words[0] in lex["gerunds"]:
                words = [lex["gerunds"][words[0]]] + words[1:]
            changed = True
            continue
        for phrase in lex["trail_wrappers"] + lex["trail_hedges"]:
            body = [w for w in words if w != "?"]
            if len(body) > len(phrase) and tuple(body[-len(phrase):]) == phrase:
                dropped += phrase
                words = body[:-len(phrase)]
                while words and words[-1] == ",":
                    words = words[:-1]
                changed = True
                break
    return words, dropped


def _skip_commas(words: list[str]) -> list[str]:
    while words and words[0] == ",":
        words = words[1:]
    return words


_PLACE_BEFORE_TAG = frozenset({"the", "or", "on", "to", "at", "far", "and", "of", "from", "bottom", "top", "its", "his",
                               "her", "their", "a"})


def _after_context(words: list[str]) -> tuple[list[str], list[str]]:
    """A run-on sentence's request after the context it opens with: 'this is a farm photo and i want to know how
    many horses there are' -> 'i want to know how many horses there are'. The context is a statement (not a
    question, not an order) and what follows the conjunction starts a request (a wrapper, a question, an edit)."""
    lex = lexicon()
    starts = lex["yes_no_starts"] | lex["wh_starts"] | lex["edit_verbs"] | lex["gerund_verbs"]
    for index, word in enumerate(words):
        head, tail = words[:index], _skip_commas(words[index + 1:])
        pointing = set(head) <= set(lex["attention_words"]) | set(lex["image_words"])   # 'look at this pic'
        if word not in lex["context_conjunctions"] or len(head) < 2 or not tail or (head[0] in starts and not pointing) \
                or _has_phrase(head, lex["count_cues"]):
            continue
        wrapped = any(_starts(tail, p) for key in ("lead_wrappers", "question_wrappers", "want_wrappers")
                      for p in lex[key])
        if wrapped or tail[0] in starts:
            return tail, head + [word]
    return words, []


def _untag(words: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """A tag question taken off the end ('the truck is red, isn't it' -> 'the truck is red'); 'right' after a
    place word or in a choice ('on the left or right') is no tag."""
    body = [w for w in words if w != "?"]
    for tag in lexicon()["tag_questions"]:
        before = body[:-len(tag)]
        while before and before[-1] == ",":
            before = before[:-1]
        if len(before) > 1 and tuple(body[-len(tag):]) == tag and before[-1] not in _PLACE_BEFORE_TAG \
                and "or" not in before:
            return before, tag
    return words, ()


def _made_to_vanish(words: list[str]) -> list[str]:
    """'make the car disappear', 'make the car go away' -> 'remove the car'."""
    if words[:1] != ["make"]:
        return words
    body = [w for w in words if w != "?"]
    for at in range(2, len(body)):
        gone = next((v for v in lexicon()["vanish_verbs"] if _starts(body[at:], v)), None)
        if gone:
            return ["remove"] + body[1:at] + body[at + len(gone):]
    return words


def _is_statement(words: list[str]) -> bool:
    """A statement to verify: 'there is a dog here', 'the truck is red' (said to Loupe, it asks whether so)."""
    body = [w for w in words if w != "?"]
    if len(body) < 3 or body[0] not in ("there", "the", "this", "that", "these", "those"):
        return False
    return body[0] == "there" and body[1] in ("is", "are") or any(w in ("is", "are") for w in body[2:4])


def _verify(words: list[str]) -> list[str]:
    """A statement as the yes/no question that verifies it: 'there is a dog' -> 'is there a dog', 'the truck is
    red' -> 'is the truck red', 'there a dog here' (a dropped 's) -> 'is there a dog here'."""
    body = [w for w in words if w != "?"]
    lex = lexicon()
    if not body or body[0] in lex["yes_no_starts"] | lex["wh_starts"] | lex["edit_verbs"]:
        return words
    if body[0] == "there":
        return ([body[1], "there"] + body[2:]) if len(body) > 1 and body[1] in ("is", "are") else ["is"] + body
    at = next((i for i, w in enumerate(body) if w in ("is", "are") and i > 0), None)
    return [body[at]] + body[:at] + body[at + 1:] if at is not None else words


_DETERMINERS_OF_WANTED = ("the", "this", "that", "these", "those", "my", "all", "every", "each")


def _wanted_noun(words: list[str]) -> list[str]:
    """An edit asked for as a thing wanted: 'I'd like an emoji over the face' -> 'put an emoji on the face', 'I want
    a colour pop on the truck' -> 'colour pop the truck', 'I want the umbrella green' -> 'make the umbrella green',
    'I'd like the horses to pop' -> 'pop the horses'."""
    lex = lexicon()
    head = next((p for p in lex["want_wrappers"] if _starts(words, p)), None)
    if head is None and words[:1] not in (["a"], ["an"], ["some"]) and not _noun_then_place(words):
        return words   # with no wrapper, only a bare noun phrase asks ('a colour splash on the dog please')
    rest = [w for w in words[len(head or ()):] if w != "?"]
    if rest[:1] in (["a"], ["an"], ["some"]):
        rest = rest[1:]
    for noun, verb in lex["wanted_nouns"]:
        if _starts(rest, noun):
            after = rest[len(noun):]
            if after[:1] in (["on"], ["over"], ["to"], ["for"], ["of"]):
                after = after[1:]
            return (verb[:-1] if verb[-1] == "on" and not after else verb) + after
    if head is None:
        return words
    if "to" in rest[2:] and rest[0] in _DETERMINERS_OF_WANTED:   # 'the horses to pop in colour' -> 'pop the horses..'
        at = rest.index("to", 2)
        if rest[at + 1:at + 2] and rest[at + 1] in lex["edit_verbs"]:
            return [rest[at + 1]] + rest[:at] + rest[at + 2:]
        gone = next((v for v in lex["vanish_verbs"] if _starts(rest[at + 1:], v)), None)
        if gone:
            return ["remove"] + rest[:at] + rest[at + 1 + len(gone):]
    if len(rest) > 1 and rest[0] in _DETERMINERS_OF_WANTED and rest[-1] in COLOURS \
            and not set(rest[:-1]) & (set(lex["participles"]) | lex["edit_verbs"]):
        return ["make"] + rest
    return words


def _pointed_edit(words: list[str]) -> list[str]:
    """'mark where the truck is', 'circle where the dogs are' -> 'mark the truck', 'circle the dogs'."""
    body = [w for w in words if w != "?"]
    if len(body) > 3 and body[0] in lexicon()["edit_verbs"] and body[1] == "where" and body[-1] in ("is", "are"):
        return [body[0]] + body[2:-1]
    return words


def _noun_then_place(words: list[str]) -> bool:
    """'portrait mode on the horse', 'emojis over the faces', 'emoji the faces': an edit noun first, then where."""
    for noun, _ in lexicon()["wanted_nouns"]:
        if _starts(words, noun):
            after = words[len(noun):len(noun) + 1]
            return after in (["on"], ["over"], ["for"], ["to"], ["of"]) or (
                after != [] and after[0] in _DETERMINERS_OF_WANTED)
    return False


def _only_fragment(words: list[str]) -> list[str]:
    """'just the bike pls', 'only the dog, cut the rest' -> 'crop to the bike', 'crop to the dog , ...'; with a
    colour look ('only the truck in colour') -> 'keep only the truck in colour' (a colour pop)."""
    lex = lexicon()
    lead = next((p for p in lex["only_fragments"] if _starts(words, p)), None)
    rest = words[len(lead):] if lead else []
    if not rest or rest[0] not in _DETERMINERS_OF_WANTED or set(rest) & (_AUX_SET | {"there", "how", "what"}) \
            or (len(rest) > 1 and (rest[1].isdigit() or rest[1] in lex["number_words"])):
        return words   # 'only the one bird in it, yeah?' states a count
    if set(rest) & ({"colour", "color"} | set(COLOURS)) or _has_phrase(rest, lex["result_looks"]):
        return ["keep", "only"] + rest
    return ["crop", "to"] + rest


def _absence_wish(words: list[str]) -> list[str]:
    """'i'd rather the parking meter wasn't there', 'i wish the car was gone' -> 'remove the parking meter'."""
    body = [w for w in words if w != "?"]
    for head, tail in lexicon()["absence_wishes"]:
        if _starts(body, head) and len(body) > len(head) + len(tail):
            for end in range(len(head) + 1, len(body) - len(tail) + 1):
                if tuple(body[end:end + len(tail)]) == tail:
                    return ["remove"] + body[len(head):end] + body[end + len(tail):]
    return words


def _described_result(words: list[str]) -> list[str]:
    """A request that only describes the photo it wants: 'everything black and white except the dog', 'the
    rest greyscale', 'background blurry pls' -> 'make ...' (a verbless clause naming a look: a colour or one
    of lexicon.json's ``result_looks``)."""
    lex = lexicon()
    body = [w for w in words if w != "?"]
    subject = next((p for p in lex["result_subjects"] if _starts(body, p)), None)
    if subject is None or len(body) <= len(subject) or set(body) & (_AUX_SET | (lex["edit_verbs"] - set(COLOURS))):
        return words
    if set(body) & set(COLOURS) or _has_phrase(body, lex["result_looks"]):
        return ["make"] + body
    return words


def _noun_question(words: list[str]) -> list[str]:
    """A question asked as a noun phrase, with or without a wrapper: 'tell me the colour of the kite' -> 'what
    colour is the kite', 'I need the number written on the meter' -> 'what is the number written on the meter'."""
    lex = lexicon()
    rest = words
    for key in ("question_wrappers", "want_wrappers"):
        head = next((p for p in lex[key] if _starts(rest, p)), ())
        rest = rest[len(head):]
    if rest[:1] == ["the"]:
        rest = rest[1:]
    for noun, question in lex["noun_questions"]:
        if _starts(rest, noun) and len(rest) > len(noun):
            return question + rest[len(noun):]
    return words


def _direct(words: list[str]) -> list[str]:
    """An embedded question as a direct one: 'whether/if the truck is green' -> 'is the truck green',
    'what colour the car is' -> 'what colour is the car', 'that there is a dog' -> 'there is a dog'."""
    lex = lexicon()
    if words and words[0] in ("whether", "if"):
        body = words[1:]
        for index, word in enumerate(body):
            if word in _AUX and index > 0:
                return [word] + body[:index] + body[index + 1:]
        return body
    if words and words[0] in ("that", "about"):
        return words[1:]
    if words[:2] == ["how", "many"] and words[-1] in _AUX and "there" in words[2:-1]:   # 'how many cats there are'
        at = words.index("there", 2)
        return words[:at] + [words[-1]] + words[at:-1]
    if words and words[0] in lex["wh_starts"] and words[-1] in _AUX and len(words) > 2:
        cut = 2 if words[0] == "how" or (len(words) > 3 and words[1] in ("colour", "color", "kind", "type")) else 1
        return words[:cut] + [words[-1]] + words[cut:-1]
    return words


def _desire_to_imperative(words: list[str]) -> list[str]:
    """'I need the faces hidden', 'the car should be removed', 'the faces need blurring', 'I want the car
    gone' -> 'hide the faces', 'remove the car', 'blur the faces', 'remove the car'."""
    lex = lexicon()
    participles, gerunds = lex["participles"], lex["gerunds"]
    body = [w for w in words if w != "?"]
    head: tuple = ()
    for phrase in lex["want_wrappers"]:
        if _starts(body, phrase):
            head, body = phrase, body[len(phrase):]
            break
    for index, word in enumerate(body):
        verb = participles.get(word) or (gerunds.get(word) if index and body[index - 1] in ("need", "needs") else None)
        if verb is None or index == 0:
            continue
        before = body[:index]
        if before[-1:] in (["colour"], ["color"]) and verb in ("pop", "splash"):   # 'colour popped': a compound verb
            before, verb = before[:-1], "colour " + verb
        link = next((p for p in lex["passive_links"] if tuple(before[-len(p):]) == p and len(before) > len(p)), ())
        subject = before[:len(before) - len(link)]
        if not subject or (not head and not link):
            continue
        if subject[0] in _REQUEST_MODALS and link[-1:] == ("be",) and len(subject) > 1 \
                and body[index + 1:index + 2] not in (["out"], ["up"], ["off"]):   # 'can a face be made out' perceives
            return verb.split() + subject[1:] + body[index + 1:]   # 'can the horse be made black?' asks for it
        if subject[0] in lex["yes_no_starts"] or subject[0] in lex["wh_starts"] or subject[0] == "there":
            return words  # 'are the faces blurred?' asks; it does not order
        tail = body[index + 1:]
        if word == "gone" and tail[:1] == ["from"]:
            tail = tail[1:]
        return verb.split() + subject + tail
    return words


# ---- what the request is -----------------------------------------------------------------------

def _intent(words: list[str]) -> tuple[str, str, tuple[str, ...]]:
    lex = lexicon()
    body = [w for w in words if w != "?"]
    first = body[0] if body else ""
    if first in lex["place_prepositions"] and body[1:2] in (["which"], ["what"]):
        first = body[1]   # 'on which side is it', 'in what part of the photo': a wh-question
    text = " ".join(body)
    if (first in lex["edit_verbs"] or _removal(body)) and not _has_phrase(body, lex["count_cues"]) \
            and not (first in ("show", "tell", "give") and len(body) > 1 and body[1] in ("me", "us")):
        if not (first == "make" and len(body) > 1 and body[1] in ("sure",)):
            return "edit", "image", ()
    choices = _choices(body)
    if _has_phrase(body, lex["count_cues"]) or first == "count":
        return "question", ("yesno" if first in lex["yes_no_starts"] and not choices else "number"), ()
    if choices:
        return "question", "choice", choices
    if first in ("what", "which") and len(body) > 1 and body[1] in ("colour", "color", "colours", "colors"):
        return "question", "colour", ()
    if first in lex["yes_no_starts"] or first == "there":
        return "question", "yesno", ()
    if first in lex["wh_starts"] or first in lex["text_cues"] or first in ("name", "list", "identify") \
            or text.startswith("what is") or first == "whats":
        return "question", "text", ()
    return "question", ("yesno" if body else "text"), ()


def _removal(body: list[str]) -> bool:
    first = body[0] if body else ""
    return first in lexicon()["removal_verbs"] or _starts(body, ("get", "rid", "of")) or \
        (first == "take" and ("out" in body or "away" in body))


def _colour_choice_typos(words: list[str]) -> list[str]:
    """Beside a colour in a choice, a word one edit from a colour is that colour: 'is the bike read or blue' ->
    'red or blue' (a real word, so no dictionary mends it)."""
    out = list(words)
    for at, word in enumerate(words):
        if word == "or" and 0 < at < len(words) - 1:
            for i, j in ((at - 1, at + 1), (at + 1, at - 1)):
                if out[j] in COLOURS and out[i] not in COLOURS:
                    close = [c for c in COLOURS if len(c) > 2 and _distance(out[i], c) == 1]
                    out[i] = close[0] if len(close) == 1 else out[i]
    return out


def _choices(body: list[str]) -> tuple[str, ...]:
    """The options of a choice question: 'is the car red or white' -> ('red', 'white'); 'is the dog on the
    left or the right' -> ('left', 'right'). A question of existence joined by 'or' ('is there a cat or a
    dog') is no choice, nor is a comparison ('more cats or dogs')."""
    lex = lexicon()
    if "or" not in body:
        return ()
    if body[:2] in (["is", "there"], ["are", "there"]) or set(body) & {"more", "fewer", "less", "most", "fewest",
                                                                         "than", "any", "either"}:
        return ()
    at = body.index("or")
    if set(body[:at]) & {"show", "shows", "contain", "contains", "have", "has", "see", "there", "include"}:
        return ()   # 'does it show a cat or a dog' asks whether either is there
    left = [w for w in body[:at] if w not in ("the", "a", "an", ",", "up", "down")]
    right = [w for w in body[at + 1:] if w not in ("the", "a", "an", "one", "side", ",", "on", "in", "at", "to", "down",
                                                    "up", "over")]   # 'up top or down at the bottom'
    if not left or not right:
        return ()
    a, b = left[-1], right[0]
    if a in COLOURS and b in COLOURS:   # asked in any form, a fragment included ('truck white or red')
        return (a, b)
    if {a, b} <= set(lex["photo_sides"]) | {"front", "back"}:
        return (a, b)
    if body[0] not in lex["yes_no_starts"] | lex["wh_starts"]:
        return ()
    if body[0] in ("which", "who") or (body[0] in lex["yes_no_starts"] and len(right) == 1):
        return (a, b)
    return ()
