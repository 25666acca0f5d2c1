import base64
import io

import numpy as np
from PIL import Image as PILImage

from loupe.programs.rationale_values import image_data_url, objects_table, value_html
from loupe.programs.values import Image, Obj, Objects


def decoded(url):
    header, payload = url.split(",", 1)
    assert header in ("data:image/jpeg;base64", "data:image/png;base64")
    return PILImage.open(io.BytesIO(base64.b64decode(payload)))


def test_images_become_thumbnails_no_larger_than_320_pixels():
    image = Image(np.zeros((400, 1000, 3), np.uint8))
    thumb = decoded(image_data_url(image))
    assert thumb.size == (320, 128)
    small = Image(np.zeros((10, 20, 3), np.uint8))
    assert image_data_url(small).startswith("data:image/png") and decoded(image_data_url(small)).size == (20, 10)
    assert value_html(image).startswith('<img class="thumb" src="data:image/jpeg;base64,')


def test_scalars_booleans_and_text():
    assert value_html(True) == '<span class="scalar">yes</span>'
    assert value_html(False) == '<span class="scalar">no</span>'
    assert value_html(3.0) == '<span class="scalar">3</span>'
    assert value_html(None) == '<span class="none">none</span>'
    assert value_html("<script>x</script>") == '<span class="text">&lt;script&gt;x&lt;/script&gt;</span>'


def test_lists_are_shown_item_by_item_and_escaped():
    html = value_html(("a&b", 2, False))
    assert html.count("<li>") == 3 and "a&amp;b" in html and ">no<" in html
    assert "empty list" in value_html(())
    assert "... and 10 more" in value_html(tuple(range(60)))


def test_objects_table_lists_name_text_score_and_box_escaped():
    objects = Objects((Obj((1, 2, 30.4, 40.6), "<img src=x onerror=alert(1)>", 0.5),
                       Obj((0, 0, 5, 5), "sign", text="EXIT", category="board")), (100, 100))
    html = objects_table(objects)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "(1, 2, 30, 41)" in html and "0.50" in html
    assert "<td>board</td><td>EXIT</td>" in html
    assert value_html(objects) == html
    assert "no objects" in value_html(Objects.empty())


def test_unknown_values_are_escaped_reprs():
    class Odd:
        def __repr__(self):
            return "<odd & ends>"
    assert value_html(Odd()) == '<span class="other">&lt;odd &amp; ends&gt;</span>'
