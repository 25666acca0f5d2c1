"""What the detectors can name (shared by the lite and GPU tiers): COCO classes, their synonyms and plurals, region words, 'face'.

``coco_class("men")`` -> ``"person"``, ``coco_class("cellphone")`` -> ``"cell phone"``,
``coco_class("glasses")`` -> ``None`` (not a COCO class).
"""

from __future__ import annotations

import re

from loupe.tools.coco import COCO_CLASSES

REGION_WORDS = ("TOP", "BOTTOM", "LEFT", "RIGHT")
ALL_WORDS = frozenset({"object", "objects", "everything", "all", "thing", "things", "anything", "all objects"})
FACE_WORDS = frozenset({"face", "faces", "human face", "human faces", "person's face", "people's faces"})

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "person": ("people", "man", "men", "woman", "women", "child", "children", "kid", "boy", "girl", "guy",
               "lady", "ladies", "player", "skier", "surfer", "skateboarder", "pedestrian", "human", "adult",
               "baby", "rider", "someone", "persons", "individual", "gentleman", "gentlemen", "toddler"),
    "bicycle": ("bike", "cycle", "push bike"),
    "car": ("auto", "automobile", "taxi", "cab", "sedan", "suv"),
    "motorcycle": ("motorbike", "scooter", "moped", "motor bike"),
    "airplane": ("plane", "aeroplane", "aircraft", "jet", "airliner"),
    "bus": ("coach", "double decker", "busses"),
    "train": ("locomotive", "tram"),
    "truck": ("lorry", "pickup", "pickup truck", "van"),
    "boat": ("ship", "sailboat", "canoe", "kayak", "yacht"),
    "traffic light": ("stoplight", "traffic signal", "traffic lights"),
    "fire hydrant": ("hydrant",),
    "stop sign": (),
    "bench": ("park bench",),
    "bird": ("eagle", "seagull", "gull", "pigeon", "duck", "parrot", "owl", "goose", "swan"),
    "cat": ("kitten", "kitty"),
    "dog": ("puppy", "pup", "doggy"),
    "horse": ("pony", "foal"),
    "sheep": ("lamb",),
    "cow": ("cattle", "bull", "calf", "ox", "cows"),
    "bear": (),
    "backpack": ("rucksack", "back pack"),
    "handbag": ("purse", "bag"),
    "tie": ("necktie",),
    "suitcase": ("luggage",),
    "skis": ("ski",),
    "sports ball": ("ball", "football", "soccer ball", "basketball", "tennis ball", "baseball", "volleyball"),
    "baseball bat": ("bat",),
    "baseball glove": ("glove", "mitt"),
    "tennis racket": ("racket", "racquet", "tennis racquet"),
    "wine glass": ("wineglass",),
    "cup": ("mug", "coffee cup", "teacup", "coffee mug"),
    "knife": ("knives",),
    "donut": ("doughnut",),
    "hot dog": ("hotdog",),
    "couch": ("sofa",),
    "potted plant": ("plant", "houseplant", "flowerpot", "pot plant"),
    "dining table": ("table", "dinner table", "kitchen table"),
    "tv": ("television", "tv set", "monitor", "screen", "tele"),
    "laptop": ("notebook computer", "computer"),
    "mouse": ("mice", "computer mouse"),
    "remote": ("remote control", "controller"),
    "cell phone": ("cellphone", "phone", "mobile phone", "smartphone", "mobile", "telephone"),
    "refrigerator": ("fridge",),
    "teddy bear": ("teddy", "stuffed animal"),
    "hair drier": ("hair dryer", "hairdryer", "blow dryer"),
}
# Words that name several COCO classes at once ("Are there any vehicles?" asks about cars, buses, trucks...).
GROUPS: dict[str, tuple[str, ...]] = {
    "vehicle": ("bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"),
    "motor vehicle": ("car", "motorcycle", "bus", "truck"),
    "animal": ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"),
    "pet": ("cat", "dog"),
    "livestock": ("horse", "sheep", "cow"),
    "farm animal": ("horse", "sheep", "cow"),
    "wild animal": ("elephant", "bear", "zebra", "giraffe"),
    "wildlife": ("bird", "elephant", "bear", "zebra", "giraffe"),
    "furniture": ("chair", "couch", "bed", "dining table", "bench"),
    "seat": ("chair", "couch", "bench"),
    "food": ("banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake"),
    "fruit": ("banana", "apple", "orange"),
    "vegetable": ("broccoli", "carrot"),
    "dessert": ("donut", "cake"),
    "electronics": ("tv", "laptop", "mouse", "remote", "keyboard", "cell phone"),
    "electronic device": ("tv", "laptop", "mouse", "remote", "keyboard", "cell phone"),
    "device": ("tv", "laptop", "mouse", "remote", "keyboard", "cell phone"),
    "appliance": ("microwave", "oven", "toaster", "sink", "refrigerator"),
    "kitchen appliance": ("microwave", "oven", "toaster", "refrigerator"),
    "cutlery": ("fork", "knife", "spoon"),
    "utensil": ("fork", "knife", "spoon"),
    "silverware": ("fork", "knife", "spoon"),
    "tableware": ("bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl"),
    "dish": ("bowl",),
    "drink": ("bottle", "wine glass", "cup"),
    "sports equipment": ("frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove",
                         "skateboard", "surfboard", "tennis racket"),
    "bag": ("backpack", "handbag", "suitcase"),
    "luggage": ("backpack", "handbag", "suitcase"),
}
_IRREGULAR_PLURALS = {"people": "person", "men": "man", "women": "woman", "children": "child", "mice": "mouse",
                      "knives": "knife", "geese": "goose", "teeth": "tooth", "feet": "foot", "ladies": "lady",
                      "skis": "skis", "glasses": "glasses", "scissors": "scissors", "sheep": "sheep",
                      "buses": "bus", "busses": "bus", "boxes": "box", "benches": "bench", "sandwiches": "sandwich",
                      "couches": "couch", "toothbrushes": "toothbrush", "cattle": "cattle"}
_WORD_TO_CLASS: dict[str, str] = {c: c for c in COCO_CLASSES}
for _cls, _words in _SYNONYMS.items():
    _WORD_TO_CLASS.update({w: _cls for w in _words})


def normalize(name: str) -> str:
    """Lower case, no articles or punctuation, single spaces: ``"The  Red-Bus!"`` -> ``"red bus"``."""
    words = re.sub(r"[^a-z0-9' ]+", " ", name.lower()).split()
    return " ".join(w for w in words if w not in ("a", "an", "the", "some", "any"))


def singular(word: str) -> str:
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def plural(name: str) -> str:
    """The plural of a class name: ``"horse"`` -> ``"horses"``, ``"person"`` -> ``"people"``, ``"bus"`` -> ``"buses"``,
    ``"wine glass"`` -> ``"wine glasses"``; a name already plural ('skis', 'scissors', 'sheep') stays."""
    *head, last = name.split()
    irregular: dict[str, str] = {}
    for many, one in _IRREGULAR_PLURALS.items():
        if many != one:
            irregular.setdefault(one, many)   # 'buses' before 'busses'
    if last in irregular:
        last = irregular[last]
    elif last not in _IRREGULAR_PLURALS and not last.endswith("s"):
        last += "es" if last.endswith(("ch", "sh", "x")) else "s"
    elif last.endswith(("ss", "us")):
        last += "es"
    return " ".join(head + [last])


def group_classes(name: str) -> tuple[str, ...]:
    """The COCO classes a group word names (``"vehicles"`` -> bicycle, car, ...), or () when it is none."""
    text = normalize(name)
    for candidate in (text, " ".join(singular(w) for w in text.split()), singular(text)):
        if candidate in GROUPS:
            return GROUPS[candidate]
    if text.endswith("s") and text[:-1] in GROUPS:  # 'electronics', 'sports equipments'
        return GROUPS[text[:-1]]
    return ()


def coco_class(name: str) -> str | None:
    """The COCO class a name means (synonyms and plurals understood), or None."""
    text = normalize(name)
    if not text:
        return None
    for candidate in (text, " ".join(singular(w) for w in text.split()), singular(text)):
        if candidate in _WORD_TO_CLASS:
            return _WORD_TO_CLASS[candidate]
    words = text.split()
    if len(words) > 1:  # "brown dog", "person on the left": the last known noun decides
        for word in reversed(words):
            found = _WORD_TO_CLASS.get(word) or _WORD_TO_CLASS.get(singular(word))
            if found:
                return found
    return None


def exact_class(name: str) -> str | None:
    """The COCO class a name means as a whole (synonyms and plurals understood), without
    ``coco_class``'s guess from the last known noun: ``exact_class("dog legs")`` is None."""
    text = normalize(name)
    for candidate in (text, " ".join(singular(w) for w in text.split()), singular(text)):
        if candidate in _WORD_TO_CLASS:
            return _WORD_TO_CLASS[candidate]
    return None


def is_region(name: str) -> bool:
    return name.strip().upper() in REGION_WORDS


def means_all(name: str) -> bool:
    return normalize(name) in ALL_WORDS


def means_face(name: str) -> bool:
    return normalize(name) in FACE_WORDS or singular(normalize(name)) == "face"


def known_to_lite(name: str) -> bool:
    """Whether the lite tier can find this name at all."""
    return is_region(name) or means_all(name) or means_face(name) or coco_class(name) is not None \
        or bool(group_classes(name))


def labelled_as(obj, cls: str):
    """``obj`` (a ``loupe.programs.values.Obj``) as a ``cls`` object: itself when so labelled, relabelled with
    that guess's score when the detector also guessed ``cls`` for it, else None."""
    if obj.label == cls:
        return obj
    score = next((s for label, s in obj.guesses if label == cls), None)
    return None if score is None else obj.evolve(label=cls, score=score)
