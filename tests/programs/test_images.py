import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image as PILImage

from loupe.programs.errors import ImageError
from loupe.programs.images import MAX_MEGAPIXELS, load_image, to_image
from loupe.programs.values import Image


def png_header_only(path, width, height):
    """A PNG whose header claims ``width`` x ``height`` pixels, with almost no pixel data."""
    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


# ---- odd but valid images --------------------------------------------------------------------------

def test_rgb_png_round_trips_exactly(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    PILImage.fromarray(pixels).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    assert np.array_equal(image.pixels, pixels) and image.source == str(tmp_path / "a.png")


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    PILImage.new("CMYK", (32, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=95)
    image = load_image(tmp_path / "cmyk.jpg")
    assert image.size == (32, 16)
    red, green, blue = image.pixels[8, 16].astype(int)
    assert red > 230 and green < 25 and blue < 25


def test_16_bit_grey_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 100, 32768, 65535]], dtype=np.uint16)
    PILImage.fromarray(values).save(tmp_path / "deep.png")
    image = load_image(tmp_path / "deep.png")
    assert image.pixels[0, :, 0].tolist() == [0, 100, 128, 255]
    assert np.array_equal(image.pixels[..., 0], image.pixels[..., 2])


def test_rgba_png_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[0, :, 3] = 255      # opaque red-ish
    rgba[1, 0, 3] = 0        # fully transparent
    rgba[1, 1, 3] = 128      # half
    PILImage.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    pixels = load_image(tmp_path / "alpha.png").pixels
    assert pixels[0, 0].tolist() == [200, 0, 0]
    assert pixels[1, 0].tolist() == [255, 255, 255]
    assert abs(int(pixels[1, 1, 1]) - 127) <= 1 and abs(int(pixels[1, 1, 0]) - 227) <= 1


def test_palette_png_with_transparency(tmp_path):
    pil = PILImage.new("P", (4, 1))
    pil.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    pil.putdata([0, 1, 1, 0])
    pil.save(tmp_path / "pal.png", transparency=0)
    pixels = load_image(tmp_path / "pal.png").pixels
    assert pixels[0].tolist() == [[255, 255, 255], [0, 0, 255], [0, 0, 255], [255, 255, 255]]


@pytest.mark.parametrize("mode, value, expected", [
    ("L", 90, [90, 90, 90]), ("LA", (90, 0), [255, 255, 255]), ("1", 1, [255, 255, 255]),
])
def test_grey_grey_alpha_and_one_bit(tmp_path, mode, value, expected):
    PILImage.new(mode, (3, 3), value).save(tmp_path / "x.png")
    assert load_image(tmp_path / "x.png").pixels[1, 1].tolist() == expected


def test_exif_orientation_6_is_applied(tmp_path):
    pixels = np.full((20, 40, 3), 255, np.uint8)   # stored 40 wide, 20 high
    pixels[:8, :8] = (255, 0, 0)                    # red block at the stored top-left
    pil = PILImage.fromarray(pixels)
    exif = pil.getexif()
    exif[0x0112] = 6                                # "rotate 90 clockwise to display"
    pil.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    image = load_image(tmp_path / "rotated.jpg")
    assert image.size == (20, 40)                   # displayed 20 wide, 40 high
    red, green, _ = image.pixels[3, 16].astype(int)  # block lands top-right
    assert red > 200 and green < 60
    assert image.pixels[3, 3].min() > 200           # top-left is white


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [PILImage.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert load_image(tmp_path / "anim.gif").pixels[4, 4].tolist() == [255, 0, 0]


# ---- files that cannot be used ---------------------------------------------------------------------

def test_empty_file(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match=r"photo\.jpg: file is empty \(0 bytes\)"):
        load_image(tmp_path / "photo.jpg")


def test_text_file(tmp_path):
    (tmp_path / "x.txt").write_text("hello, not a picture")
    with pytest.raises(ImageError, match=r"x\.txt: not an image Pillow can read \("):
        load_image(tmp_path / "x.txt")


def test_truncated_jpeg(tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(noise).save(buffer, format="JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg: the image data is truncated or corrupt"):
        load_image(tmp_path / "cut.jpg")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ImageError, match=r"nope\.png: no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="is a directory"):
        load_image(tmp_path)


@pytest.mark.parametrize("width, height, megapixels", [(20000, 10000, "200"), (10000, 8000, "80")])
def test_decompression_bomb_is_refused_before_decoding(tmp_path, width, height, megapixels):
    path = png_header_only(tmp_path / "big.png", width, height)
    before = PILImage.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no DecompressionBombWarning leaks out either
        with pytest.raises(ImageError, match=rf"big\.png: {megapixels} megapixels is more than the "
                                              rf"{MAX_MEGAPIXELS} megapixel limit"):
            load_image(path)
    assert PILImage.MAX_IMAGE_PIXELS == before


def test_the_limit_can_be_set_per_call(tmp_path):
    PILImage.new("RGB", (2000, 1000)).save(tmp_path / "two.png")
    with pytest.raises(ImageError, match="2.0 megapixels is more than the 1 megapixel limit"):
        load_image(tmp_path / "two.png", max_megapixels=1)
    assert load_image(tmp_path / "two.png").size == (2000, 1000)


# ---- to_image: the Python API ----------------------------------------------------------------------

def test_to_image_from_bytes_pil_and_image():
    buffer = io.BytesIO()
    PILImage.new("RGB", (5, 4), (1, 2, 3)).save(buffer, format="PNG")
    assert to_image(buffer.getvalue()).pixels[0, 0].tolist() == [1, 2, 3]
    assert to_image(PILImage.new("L", (5, 4), 7)).pixels[0, 0].tolist() == [7, 7, 7]
    image = Image(np.zeros((2, 2, 3), np.uint8))
    assert to_image(image) is image
    assert load_image(buffer.getvalue()).size == (5, 4)


@pytest.mark.parametrize("array, expected", [
    (np.full((2, 2), 9, np.uint8), [9, 9, 9]),
    (np.full((2, 2, 3), 0.5, np.float32), [128, 128, 128]),
    (np.full((2, 2), 65535, np.uint16), [255, 255, 255]),
    (np.ones((2, 2), bool), [255, 255, 255]),
    (np.zeros((2, 2, 4), np.uint8), [255, 255, 255]),   # transparent -> white
])
def test_to_image_from_arrays(array, expected):
    assert to_image(array).pixels[1, 1].tolist() == expected


def test_to_image_refuses_what_it_cannot_use():
    with pytest.raises(ImageError, match=r"\[H, W, 3\]"):
        to_image(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ImageError, match="cannot make an image from a dict"):
        to_image({})
    with pytest.raises(ImageError, match="<bytes>: not an image"):
        to_image(b"not an image")


def test_the_array_passed_in_is_not_modified():
    array = np.zeros((3, 3, 4), np.uint8)
    to_image(array)
    assert not array.any()
