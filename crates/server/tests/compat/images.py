"""The official Python client's image calls, py.image.get and py.image.save_as, pointed at the
local server: every format the client allows, at the server's size and at a given width, height
and scale. Each answer must be the format asked for (its magic bytes) and, for PNG and JPEG, of
`width × scale` by `height × scale` pixels. Run by `cargo xtask ci compat` with HOME set to an
empty folder.
"""

import os
import struct
import warnings

import chart_studio
import chart_studio.plotly as py

API = os.environ["CS_API"]
warnings.simplefilter("ignore")  # the client warns that the domains are http, not https

chart_studio.tools.set_credentials_file(username="pyuser", api_key="pyuser-key")
chart_studio.tools.set_config_file(plotly_domain=API, plotly_api_domain=API)

FIGURE = {"data": [{"type": "bar", "x": ["a", "b", "c"], "y": [3, 1, 2]}], "layout": {"title": {"text": "images"}}}
MAGIC = {"png": b"\x89PNG", "jpeg": b"\xff\xd8\xff", "svg": b"<svg", "pdf": b"%PDF", "emf": b"\x01\x00\x00\x00"}


def pixel_size(image):
    """The pixel size a PNG or JPEG says it has."""
    if image.startswith(b"\x89PNG"):
        return struct.unpack(">II", image[16:24])
    at = 2
    while at < len(image):
        marker, length = image[at + 1], struct.unpack(">H", image[at + 2:at + 4])[0]
        if 0xC0 <= marker <= 0xC3:
            height, width = struct.unpack(">HH", image[at + 5:at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no size in the JPEG")


def main():
    for fmt, magic in MAGIC.items():
        for size, expected in [({}, (700, 500)), ({"width": 300, "height": 200, "scale": 2}, (600, 400))]:
            image = py.image.get(FIGURE, format=fmt, **size)
            assert image.startswith(magic), (fmt, size, image[:16])
            if fmt in ("png", "jpeg"):
                assert pixel_size(image) == expected, (fmt, size, pixel_size(image))
            if fmt == "emf":
                assert image[40:44] == b" EMF", image[40:44]
        path = os.path.join(os.environ["HOME"], "chart." + fmt)
        py.image.save_as(FIGURE, path, width=400, height=300)
        with open(path, "rb") as saved:
            assert saved.read().startswith(magic), path
    print("images: ok")


main()
