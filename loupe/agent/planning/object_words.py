"""Object words outside the detector's vocabulary, read as a COCO class by models rather than longer lists.

``read_object_word("catt")`` -> ``WordReading("catt", "cat", "spelling")``; ``read_object_word("jogger")`` ->
``WordReading("jogger", "person", "meaning")``; ``read_object_word("grass")`` -> None.

A word the vocabulary (``loupe.tools.vocabulary``, the lexicon's synonyms and person words) does not know is read
in two ways, the cheap one first:

- *spelling*: a misspelling that is a rare word of pyspellchecker's dictionary ('catt', 'truk': the reading
  mends only words the dictionary does not know) one edit (two from seven letters) from a class name or synonym
  that is at least ``SPELLING_RATIO`` times more frequent, the typed word itself being rarer than
  ``RARE_WORD`` (so 'cap' is not read as cup, nor 'house' as horse);
- *meaning*: the MiniLM sentence embedding (``loupe.agent.planning.embeddings``) of "a photo of a {word}" compared
  with the same template over every class name and synonym and over COCO-Stuff's names (``STUFF``: a word closest
  to one of them is read as none); the closest class is taken when its cosine is at least ``THRESHOLD`` and beats
  the next (a class or stuff) by ``MARGIN``. Both numbers were chosen on the tune half of
  ``bench/rephrase/vocab_calibration.jsonl`` (``bench/rephrase/calibrate_vocab.py``; a wrong mapping costs as
  much as a missed one) and are reported on its test half in BENCHMARKS.md.

The embedding model loads only when a word reaches the second way (cold start: most requests name known words);
the names' embeddings are stored beside this module (``INDEX``). Without the model, or the dictionary, that way is
skipped and the word stays unknown (reported as unused). Which words are read at all (an object noun, not a place
or a predicate) is ``loupe.agent.planning.query_facts``'s part.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from loupe.agent.planning.reading import _dictionary, _distance, known_words, lexicon
from loupe.tools.vocabulary import _WORD_TO_CLASS

THRESHOLD = 0.53   # chosen on the tune half (see the module docstring)
MARGIN = 0.02
SPELLING_RATIO = 100.0
RARE_WORD = 1e-6   # usage frequency under which a dictionary word may be a misspelling of a far commoner one
TEMPLATE = "a photo of a {}"
INDEX = Path(__file__).with_name("object_words.npz")   # the class names' embeddings, stored (see _class_index)
#: COCO-Stuff's stuff classes (Caesar et al., 2018): what a photo shows that is no object of a COCO class. A word
#: closest to one of them is read as none ('grass', 'sky', 'wall'), however close a class comes second.
STUFF = ("banner", "blanket", "branch", "bridge", "building", "bush", "cabinet", "cage", "cardboard", "carpet",
         "ceiling", "tile", "cloth", "clothes", "clouds", "counter", "cupboard", "curtain", "desk", "dirt", "door",
         "fence", "floor", "flower", "fog", "food", "fruit", "furniture", "grass", "gravel", "ground", "hill", "house",
         "leaves", "light", "mat", "metal", "mirror", "moss", "mountain", "mud", "napkin", "net", "paper", "pavement",
         "pillow", "plant", "plastic", "platform", "playing field", "railing", "railroad", "river", "road", "rock",
         "roof", "rug", "salad", "sand", "sea", "shelf", "sky", "skyscraper", "snow", "stairs", "stone", "straw",
         "structure", "table", "tent", "textile", "towel", "tree", "vegetable", "wall", "water", "waterdrops",
         "window", "wood")


@dataclass(frozen=True)
class WordReading:
    """``word`` as typed, read as the COCO class ``name``; ``how``: spelling | meaning; ``score``: the cosine
    (meaning) or the frequency ratio (spelling)."""

    word: str
    name: str
    how: str
    score: float = 0.0


@functools.lru_cache(maxsize=1)
def class_names() -> dict[str, str]:
    """Every name of a class Loupe knows (the vocabulary's, the lexicon's synonyms and person words) -> its class."""
    lex = lexicon()
    names = dict(_WORD_TO_CLASS)
    names.update(lex["synonyms"])
    names.update({word: "person" for word in lex["person_words"]})
    return names


def read_object_word(word: str, threshold: float = THRESHOLD, margin: float = MARGIN) -> WordReading | None:
    """The class an unknown object word means, or None (see the module docstring)."""
    word = word.lower().strip()
    return (by_spelling(word) or _by_meaning(word, threshold, margin)) if readable(word) else None


def readable(word: str) -> bool:
    """Whether ``word`` is one to read here: a word of letters that Loupe does not read on purpose already (a
    class name or synonym, 'background', 'colour', or 'sign', 'light' of the many-word names 'stop sign', ...)."""
    return word.isalpha() and len(word) >= 3 and word not in class_names() and word not in known_words()


@functools.lru_cache(maxsize=2048)
def by_spelling(word: str) -> WordReading | None:
    """A rare dictionary word that is a misspelling of a far commoner class name ('catt' -> cat)."""
    dictionary = _dictionary()
    if dictionary is None:
        return None
    typed = dictionary.word_usage_frequency(word)
    if typed >= RARE_WORD:
        return None
    limit = 1 if len(word) < 7 else 2
    close = []
    for name, cls in class_names().items():
        for form in (name, name + "s"):
            if abs(len(form) - len(word)) <= limit and _distance(word, form) <= limit:
                frequency = dictionary.word_usage_frequency(form.split()[-1])
                if frequency >= SPELLING_RATIO * max(typed, 1e-12):
                    close.append((_distance(word, form), -frequency, cls, frequency))
    if not close or len({cls for d, _, cls, _ in close if d == min(close)[0]}) > 1:
        return None   # none, or as close to two classes: not a misspelling we can read
    distance, _, cls, frequency = min(close)
    return WordReading(word, cls, "spelling", frequency / max(typed, 1e-12))


def _by_meaning(word: str, threshold: float, margin: float) -> WordReading | None:
    scored = meaning_scores(word)
    if scored is None:
        return None
    (best, score), (_, second) = scored[0], scored[1]
    if best is not None and score >= threshold and score - second >= margin:
        return WordReading(word, best, "meaning", score)
    return None


@functools.lru_cache(maxsize=2048)
def meaning_scores(word: str) -> tuple[tuple[str | None, float], ...] | None:
    """(class, cosine) of every class (None: stuff), closest first: the word's template against each class's
    closest name; None without the embedding model."""
    from loupe.agent.planning.embeddings import embed

    vector = embed(TEMPLATE.format(word))
    index = _class_index()
    if vector is None or index is None:
        return None
    matrix, classes = index
    best: dict[str, float] = {}
    for cls, score in zip(classes, (matrix @ vector).tolist()):
        best[cls] = max(best.get(cls, -1.0), score)
    return tuple(sorted(best.items(), key=lambda item: -item[1]))


@functools.lru_cache(maxsize=1)
def _class_index():
    """(matrix of the names' template embeddings, each row's class); None without the model. The embeddings come
    from ``INDEX`` where it holds their sentence (embedding the ~350 sentences takes about 1.5 s of a cold start on
    one core); a name it lacks (the lexicon grew) is embedded here."""
    import numpy as np

    from loupe.agent.planning.embeddings import encoder

    model = encoder()
    if model is None:
        return None
    texts, classes = _sentences()
    stored = _stored()
    missing = [t for t in texts if t not in stored]
    stored.update(zip(missing, model.encode(missing)) if missing else ())
    return np.stack([stored[t] for t in texts]).astype(np.float32), classes


def _sentences() -> tuple[list[str], list[str | None]]:
    """The template over every class name and stuff name, and each one's class (None: stuff)."""
    names = {**{name: None for name in STUFF}, **class_names()}   # a class's name wins over a stuff name
    return [TEMPLATE.format(name) for name in names], list(names.values())


def _stored() -> dict:
    """sentence -> its stored embedding (float16), or {} when ``INDEX`` is missing."""
    import numpy as np

    if not INDEX.is_file():
        return {}
    with np.load(INDEX, allow_pickle=False) as data:
        return dict(zip(data["texts"].tolist(), data["vectors"]))


def write_index(path: Path = INDEX) -> int:
    """Embed every sentence of ``_sentences`` and store them at ``path`` (after the names or the template change:
    ``python -m loupe.agent.planning.object_words``); returns how many."""
    import numpy as np

    from loupe.agent.planning.embeddings import encoder

    texts, _ = _sentences()
    np.savez_compressed(path, texts=np.array(texts), vectors=encoder().encode(texts).astype(np.float16))
    return len(texts)


if __name__ == "__main__":
    print(f"stored {write_index()} sentence embeddings in {INDEX}")
