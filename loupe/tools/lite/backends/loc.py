"""LOC on the lite tier: CenterNet's 80 COCO classes (synonyms and plurals understood), BlazeFace for
'face', the whole set for 'object'/'everything'. The LOC tool (``loupe.tools.loc``) checks names and answers
region words itself; this backend only finds boxes."""

from __future__ import annotations

from dataclasses import replace

from loupe.programs.errors import ToolError
from loupe.tools.lite.backends.base import LiteBackend, each
from loupe.tools.lite.fusion import SURE_FROM
from loupe.tools.vocabulary import coco_class, group_classes, known_to_lite, labelled_as, means_all, means_face

GPU_HINT = "the GPU tier's open-vocabulary detector (OWLv2) can find any named object"


def affordance(args) -> float:
    """1 for names the lite detector knows, 0 for others ('glasses'), 0.5 when not known statically."""
    name = args.get("object")
    if not isinstance(name, str):
        return 0.5
    return 1.0 if known_to_lite(name) else 0.0


def unsupported(name: str) -> ToolError:
    return ToolError(f"{name!r} is not supported by the lite detector, which knows the 80 COCO classes "
                     f"(person, car, dog, cup, ...) and faces; {GPU_HINT}")


def named(objects, wanted: str) -> tuple:
    """The objects labelled (or guessed) as the COCO class ``wanted``, relabelled with it."""
    return tuple(o for o in (labelled_as(o, wanted) for o in objects) if o is not None)


def _named_any(objects, classes) -> tuple:
    """The objects named as any of ``classes``, each once (under its own label when that is one of them)."""
    if len(classes) == 1:
        return named(objects, classes[0])
    kept = []
    for obj in objects:
        label = obj.label if obj.label in classes else next(
            (label for label, _ in obj.guesses if label in classes), None)
        if label is not None:
            kept.append(labelled_as(obj, label))
    return tuple(kept)


class LiteLocator(LiteBackend):
    def run_batch(self, calls):
        wanted = [c for c in calls if known_to_lite(c["object"])]
        need_faces = [c["image"] for c in wanted if means_face(c["object"])]
        need_objects = [c["image"] for c in wanted if not means_face(c["object"])]
        objects = dict(zip(map(id, need_objects), self.vision.objects(need_objects)))
        faces = dict(zip(map(id, need_faces), self.vision.faces(need_faces)))

        def locate(call):
            image, name = call["image"], call["object"]
            if not known_to_lite(name):
                raise unsupported(name)
            if means_face(name):
                return faces[id(image)]
            found = objects[id(image)]
            if means_all(name):
                return found
            wanted = group_classes(name) or (coco_class(name),)   # a group word ('vehicles') finds each class
            return replace(found.with_items(_named_any(found, wanted)), faint=_named_any(found.faint, wanted),
                           sure_score=SURE_FROM)

        return each(calls, locate)
