"""A bad-input corpus run through ``loupe run`` / ``loupe check``: every broken image or program ends
with exit 2 and a short message naming the file and why, never a traceback; unusual but valid images
(EXIF-rotated, CMYK, 16-bit, a PNG named .jpg) are read the right way up and the right colour.
The corpus is generated into a temporary folder; the CLI runs in-process (click's runner)."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image as PILImage

from loupe.agent.cli import main

IDENTITY = "R=RESULT(var=IMAGE)\n"  # the decoded input image itself, written with --out


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixel_bomb() -> bytes:
    """A 100-byte PNG whose header claims 40,000 x 40,000 pixels (1.6 gigapixels)."""
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


def encoded(image: PILImage.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo_bytes() -> bytes:
    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:, :15] = (200, 30, 30)
    return encoded(PILImage.fromarray(pixels), "PNG")


def noise_png() -> bytes:
    """A 100 x 100 PNG of noise (it does not compress: cutting the file cuts the pixel data)."""
    return encoded(PILImage.fromarray(np.random.default_rng(3).integers(0, 256, (100, 100, 3), np.uint8)), "PNG")


BROKEN_IMAGES = {  # file name: (bytes, what the message says)
    "empty.png": (b"", "file is empty"),
    "truncated.png": (noise_png()[:3000], "the image data is truncated or corrupt"),
    "random.jpg": (bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8)), "not an image"),
    "text.png": (b"this is a shopping list, not a picture\n", "not an image"),
    "bomb.png": (pixel_bomb(), "megapixels"),
}


@pytest.mark.parametrize("name", list(BROKEN_IMAGES))
def test_a_broken_image_is_exit_2_naming_the_file(tmp_path, name):
    content, says = BROKEN_IMAGES[name]
    (tmp_path / name).write_bytes(content)
    (tmp_path / "p.txt").write_text(IDENTITY)
    result = cli("run", tmp_path / "p.txt", "--image", tmp_path / name, "--out", tmp_path / "out.png")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {tmp_path / name}: ")
    assert says in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_a_broken_image_under_json_is_one_json_object(tmp_path):
    (tmp_path / "random.png").write_bytes(os.urandom(2048))
    (tmp_path / "p.txt").write_text(IDENTITY)
    result = cli("run", tmp_path / "p.txt", "--image", tmp_path / "random.png", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 2 and data["ok"] is False and data["error"]["type"] == "ImageError"


def _exif_rotated() -> bytes:
    """A 30 x 20 JPEG whose EXIF orientation (6: rotate 90 degrees clockwise) makes it 20 x 30."""
    exif = PILImage.Exif()
    exif[0x0112] = 6
    return encoded(PILImage.open(io.BytesIO(photo_bytes())).convert("RGB"), "JPEG", exif=exif.tobytes(), quality=95)


def _cmyk() -> bytes:
    return encoded(PILImage.open(io.BytesIO(photo_bytes())).convert("CMYK"), "JPEG", quality=95)


def _sixteen_bit() -> bytes:
    grey = np.zeros((20, 30), np.uint16)
    grey[:, :15] = 65535
    return encoded(PILImage.fromarray(grey), "PNG")


UNUSUAL_IMAGES = {  # file name: (bytes, (width, height), RGB of the left half, RGB of the right half)
    "exif-rotated.jpg": (_exif_rotated, (20, 30), None, None),
    "cmyk.jpg": (_cmyk, (30, 20), (200, 30, 30), (0, 0, 0)),
    "sixteen-bit.png": (_sixteen_bit, (30, 20), (255, 255, 255), (0, 0, 0)),
    "png-named.jpg": (photo_bytes, (30, 20), (200, 30, 30), (0, 0, 0)),
}


@pytest.mark.parametrize("name", list(UNUSUAL_IMAGES))
def test_unusual_valid_images_are_read_right(tmp_path, name):
    make, size, left, right = UNUSUAL_IMAGES[name]
    (tmp_path / name).write_bytes(make())
    (tmp_path / "p.txt").write_text(IDENTITY)
    result = cli("run", tmp_path / "p.txt", "--image", tmp_path / name, "--out", tmp_path / "out.png")
    assert result.exit_code == 0, result.stderr
    out = np.asarray(PILImage.open(tmp_path / "out.png"))
    assert (out.shape[1], out.shape[0]) == size
    if left is not None:
        assert np.abs(out[10, 3].astype(int) - left).max() <= 12 and np.abs(out[10, 26].astype(int) - right).max() <= 12
    else:  # rotated clockwise: the red left half is now the top half
        assert out[3, 10, 0] > 150 and out[26, 10, 0] < 40


BIG = "9" * 399
BAD_PROGRAMS = {  # file name: (bytes, what the first error line says)
    "binary.txt": (bytes(range(256)) * 4, "cannot read the program file"),
    "garbage.txt": (b"hello world\nthis is not { a program", "line 1, column 7: expected '=' after the output"),
    "empty.txt": (b"", "the program has no steps"),
    "steps-10000-broken.txt": ("\n".join(f"X{i}=NOPE(" for i in range(10_000)).encode(), "line 1, column"),
    "steps-10000.txt": (b"A=EVAL(expr='1')\n" * 10_000 + b"R=RESULT(var=A)", "steps"),
    "tasks.json": (b'[{"task": "object-detection", "id": 0', "JSON"),
    "squares.txt": ("\n".join([f"N0=EVAL(expr='{BIG} * {BIG}')"] + [f"N{i}=EVAL(expr='{{N{i - 1}}} * {{N{i - 1}}}')"
                                                                    for i in range(1, 5)] + ["R=RESULT(var=N4)"]).encode(),
                    "EVAL number too large"),
}


@pytest.mark.parametrize("name", list(BAD_PROGRAMS))
def test_a_bad_program_is_exit_2_with_a_short_message(tmp_path, name):
    content, says = BAD_PROGRAMS[name]
    (tmp_path / name).write_bytes(content)
    PILImage.open(io.BytesIO(photo_bytes())).save(tmp_path / "photo.png")
    result = cli("run", tmp_path / name, "--image", tmp_path / "photo.png")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert says in result.stderr, result.stderr
    assert len(result.stderr) < 4_000 and result.stderr.count("\n") <= 25  # never a wall of errors


def test_ten_thousand_errors_show_twenty_and_count_the_rest(tmp_path):
    program = tmp_path / "p.txt"
    program.write_text("\n".join(f"X{i}=NOPE(" for i in range(10_000)))
    result = cli("check", program)
    assert result.exit_code == 2
    assert result.stderr.count("missing ')'") == 20 and "... and 9,980 more errors" in result.stderr
    data = json.loads(cli("check", "--json", program).stdout)
    assert len(data["errors"]) == 20 and data["more_errors"] == 9_980


def test_a_program_file_with_a_utf8_bom_runs(tmp_path):
    program = tmp_path / "p.txt"
    program.write_bytes(b"\xef\xbb\xbfA=EVAL(expr='2 + 3')\r\nR=RESULT(var=A)\r\n")
    PILImage.open(io.BytesIO(photo_bytes())).save(tmp_path / "photo.png")
    result = cli("run", program, "--image", tmp_path / "photo.png")
    assert result.exit_code == 0 and result.stdout.strip() == "5"
    assert cli("check", program).stdout.strip().endswith("ok, 2 steps, reads no input")


@pytest.mark.parametrize("option, path, says", [
    ("--out", "missing-folder/out.png", "the folder missing-folder does not exist"),
    ("--out", "out.unknown", "cannot write an image with the suffix '.unknown'"),
    ("--out", ".", "is a folder"),
    ("--html", "missing-folder/report.html", "the folder missing-folder does not exist"),
    ("--html", "/dev/full", "is not a regular file"),      # writes fail with ENOSPC, after the whole run
    ("--html", "/proc/version", "is not a regular file"),  # open() succeeds, even as root; writes fail
])
def test_a_bad_output_path_fails_before_the_run(tmp_path, option, path, says, monkeypatch):
    if path.startswith("/") and not os.path.exists(path):
        pytest.skip(f"{path} exists on Linux only")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.txt").write_text(IDENTITY)
    PILImage.open(io.BytesIO(photo_bytes())).save(tmp_path / "photo.png")
    result = cli("run", "p.txt", "--image", "photo.png", option, path)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {option} {path}: {says}") and result.stderr.count("\n") == 1


def test_a_lone_surrogate_escape_in_a_program_is_printed_escaped(tmp_path):
    program = tmp_path / "p.txt"
    program.write_text("A=EVAL(expr=\"'x\\uD800y'\")\nR=RESULT(var=A)\n")
    PILImage.open(io.BytesIO(photo_bytes())).save(tmp_path / "photo.png")
    result = cli("run", program, "--image", tmp_path / "photo.png")
    assert result.exit_code == 0 and result.stdout == "x\\ud800y\n"


def test_a_lone_surrogate_in_an_answer_is_printed_escaped(tmp_path):
    """JSON decodes "\\ud800" into half a character, which no UTF-8 output can carry: shown as its escape."""
    tasks = tmp_path / "tasks.json"
    tasks.write_text('[{"task": "EVAL", "id": 0, "dep": [-1], "args": {"expr": "\\"x\\ud800y\\""}}]')
    PILImage.open(io.BytesIO(photo_bytes())).save(tmp_path / "photo.png")
    result = cli("run", tasks, "--image", tmp_path / "photo.png", "--html", tmp_path / "r.html")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "x\\ud800y" and "x\\ud800y" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert json.loads(cli("run", tasks, "--image", tmp_path / "photo.png", "--json").stdout)["answer"] == "x\ud800y"
