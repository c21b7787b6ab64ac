"""Procedural stylised faces whose identity and "rest" factors are known exactly.

`render(identity, rest, size)` draws a face from two independent factor sets (trainer/face_factors.py).
Because any identity can be rendered with any rest, the true "rest of image i with the identity of
image j" is simply `render(identity_j, rest_i)`: a ground truth for the G2G swap that no photo data
set offers.

Drawing happens on a canvas 4× the output size and is box-downsampled, so edges are anti-aliased.
Head pose is geometric: features sit on a cylinder around the head, so yaw moves them along the face
and foreshortens them (ears and hair parting follow), and roll rotates every drawn point about the
face centre. The renderer uses no randomness: the same factors always give the same pixels.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from trainer.face_factors import EAR_STYLES, HAIR_STYLES, NOSE_STYLES, PATTERNS, IdentityFactors, RestFactors

RENDERER_VERSION = 2  # bump when the pictures change: cached evaluation models depend on them
SUPERSAMPLE = 4
SIZES = (32, 64, 128)


# --------------------------------------------------------------------------- drawing


@dataclass
class Rendering:
    """An image plus masks that the factor-independence tests and metrics use."""

    image: Image.Image  # RGB
    skin: np.ndarray  # bool H×W: bare face skin (no neck, ears, eyes, brows, nose, mouth, hair)
    head: np.ndarray  # bool H×W: anything belonging to the person (face, ears, neck, hair)


class _Painter:
    """Draws polygons into the image and, in step, into the skin and head masks (canvas = 4× size)."""

    def __init__(self, canvas: int, background: Image.Image, centre, scale: float, roll: float):
        self.n = canvas
        self.image = background
        self.draw = ImageDraw.Draw(self.image)
        self.skin = Image.new("L", (canvas, canvas), 0)
        self.head = Image.new("L", (canvas, canvas), 0)
        self.skin_draw = ImageDraw.Draw(self.skin)
        self.head_draw = ImageDraw.Draw(self.head)
        self.cx, self.cy = centre
        self.k = scale * canvas
        self.cos, self.sin = math.cos(roll), math.sin(roll)

    def to_canvas(self, pts: np.ndarray) -> list[tuple[float, float]]:
        """Face-local points (units of the image, y down, origin at the face centre) → canvas pixels."""
        x, y = pts[:, 0], pts[:, 1]
        px = self.cx * self.n + self.k * (self.cos * x - self.sin * y)
        py = self.cy * self.n + self.k * (self.sin * x + self.cos * y)
        return list(zip(px.tolist(), py.tolist()))

    def poly(self, pts: np.ndarray, colour, *, skin: bool | None, head: bool = True) -> None:
        xy = self.to_canvas(pts)
        self.draw.polygon(xy, fill=_rgb(colour))
        if skin is not None:
            self.skin_draw.polygon(xy, fill=255 if skin else 0)
        if head:
            self.head_draw.polygon(xy, fill=255)

    def line(self, pts: np.ndarray, colour, width: float, *, skin: bool | None) -> None:
        xy = self.to_canvas(pts)
        w = max(1, round(width * self.k))
        self.draw.line(xy, fill=_rgb(colour), width=w, joint="curve")
        if skin is not None:
            self.skin_draw.line(xy, fill=255 if skin else 0, width=w, joint="curve")
        self.head_draw.line(xy, fill=255, width=w, joint="curve")


def _rgb(colour) -> tuple[int, ...]:
    return tuple(int(v) for v in np.rint(np.asarray(colour, float)))


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 48, start=0.0, stop=2 * math.pi) -> np.ndarray:
    t = np.linspace(start, stop, n, endpoint=stop - start < 2 * math.pi - 1e-9)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - math.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb) * 255


@functools.lru_cache(maxsize=4)
def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    return yy, xx


def _background(rest: RestFactors, n: int) -> np.ndarray:
    base = _hsv_to_rgb(rest.bg_hue, rest.bg_saturation, rest.bg_value)
    other = _hsv_to_rgb((rest.bg_hue + 0.08) % 1.0, rest.bg_saturation * 0.8, rest.bg_value * 0.78)
    yy, xx = (g / n for g in _grid(n))
    along = xx * math.cos(rest.pattern_angle) + yy * math.sin(rest.pattern_angle)
    across = -xx * math.sin(rest.pattern_angle) + yy * math.cos(rest.pattern_angle)
    period = 1 / 8 + rest.pattern_scale * (1 / 3 - 1 / 8)
    name = PATTERNS[rest.pattern]
    if name == "plain":
        w = np.zeros_like(xx)
    elif name == "stripes":
        w = ((along / period) % 1.0 < 0.5).astype(float)
    elif name == "gradient":
        w = np.clip(along / 1.4 + 0.15, 0, 1)
    elif name == "dots":
        fx, fy = (along / period) % 1.0 - 0.5, (across / period) % 1.0 - 0.5
        w = (fx**2 + fy**2 < 0.2**2).astype(float)
    else:
        w = (((along / period) // 1 + (across / period) // 1) % 2).astype(float)
    return base * (1 - w[..., None]) + other * w[..., None]


def render_with_masks(identity: IdentityFactors, rest: RestFactors, size: int = 64) -> Rendering:
    n = size * SUPERSAMPLE
    background = Image.fromarray(_background(rest, n).round().astype(np.uint8), "RGB")
    p = _Painter(n, background, (0.5 + rest.dx, 0.53 + rest.dy), rest.scale, rest.roll)
    _draw_person(p, identity, rest)
    img = np.asarray(p.image, float)
    head = np.asarray(p.head, float) / 255
    img = _shade(img, head, p, identity, rest)
    image = Image.fromarray(img.round().clip(0, 255).astype(np.uint8), "RGB").reduce(SUPERSAMPLE)
    skin = np.asarray(p.skin.reduce(SUPERSAMPLE)) == 255
    head_mask = np.asarray(p.head.reduce(SUPERSAMPLE)) > 127
    return Rendering(image=image, skin=skin, head=head_mask)


def render(identity: IdentityFactors, rest: RestFactors, size: int = 64) -> Image.Image:
    """The RGB face `size`×`size` of this identity under these rest factors."""
    return render_with_masks(identity, rest, size).image


def contact_sheet(identities: list[IdentityFactors], rests: list[RestFactors], size: int = 64) -> Image.Image:
    """Rows = identities, columns = rest factors: each row is one person, each column one situation."""
    sheet = Image.new("RGB", (len(rests) * size, len(identities) * size), "white")
    for r, identity in enumerate(identities):
        for c, rest in enumerate(rests):
            sheet.paste(render(identity, rest, size), (c * size, r * size))
    return sheet


def _shade(img: np.ndarray, head: np.ndarray, p: _Painter, identity: IdentityFactors, rest: RestFactors):
    """Directional light: shade falls linearly away from the lit side, from gain 1 down to 1 − strength.

    Light never brightens (bright skin would clip at 255 and skew its mean), and the gradient is
    linear and centred on the visible face skin, so turning the light keeps the mean skin colour
    exactly; a stronger light darkens the far side more.
    """
    n = p.n
    yy, xx = _grid(n)
    radius = identity.face_width * identity.face_aspect * p.k
    skin = np.asarray(p.skin) > 127
    cx, cy = (xx[skin].mean(), yy[skin].mean()) if skin.any() else (p.cx * n, p.cy * n)
    d = ((xx - cx) * math.cos(rest.light_angle) + (yy - cy) * math.sin(rest.light_angle)) / radius
    gain = 1 - rest.light_strength * (1 - np.clip(d, -1.0, 1.0)) / 2 * head
    return img * gain[..., None]


def _draw_person(p: _Painter, ident: IdentityFactors, rest: RestFactors) -> None:
    w = ident.face_width
    h = w * ident.face_aspect
    yaw = rest.yaw
    skin = ident.skin_rgb
    hair = np.array(ident.hair_colour)
    style = HAIR_STYLES[ident.hair_style]
    volume = 1.06 + 0.1 * ident.hair_volume

    def on_face(phi: float) -> tuple[float, float]:
        """x position and horizontal foreshortening of a feature at angle phi on the head cylinder."""
        return w * 0.97 * math.sin(phi + yaw), max(math.cos(phi + yaw), 0.2)

    # Back hair (behind the head) for styles that fall below the crown.
    if style in ("bob", "long"):
        xs = -0.15 * w * math.sin(yaw)
        reach = w * volume * (1.12 if style == "bob" else 1.3)
        bottom = 0.55 * h if style == "bob" else 1.9 * h
        top = _ellipse(xs, 0.0, reach, h * 1.05, 40, math.pi, 2 * math.pi)
        p.poly(np.vstack([top, [[xs + reach, bottom], [xs - reach, bottom]]]), hair, skin=None)
    elif style == "bun":
        p.poly(
            _ellipse(-0.2 * w * math.sin(yaw), -h * 0.95, w * (0.55 + 0.25 * ident.hair_volume), h * 0.45),
            hair,
            skin=None,
        )

    # Neck, then ears (behind the face outline).
    neck_x = 0.1 * w * math.sin(yaw)
    p.poly(
        np.array(
            [
                [neck_x - 0.45 * w, 0.5 * h],
                [neck_x + 0.45 * w, 0.5 * h],
                [neck_x + 0.55 * w, 2.2 * h],
                [neck_x - 0.55 * w, 2.2 * h],
            ]
        ),
        skin * 0.88,
        skin=None,
    )
    for side in (-1, 1):
        _draw_ear(p, ident, w, h, side, yaw, skin)

    # Face outline: a superellipse whose lower half narrows to the chin; the chin turns with the head.
    t = np.linspace(0, 2 * math.pi, 96, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    x = w * np.sign(c) * np.abs(c) ** 0.85
    y = h * s
    lower = np.clip(s, 0, None)
    x = x * (1 - 0.35 * ident.jaw_taper * lower**2) + 0.12 * w * math.sin(yaw) * lower**2
    p.poly(np.stack([x, y], 1), skin, skin=True)

    eye_y = -0.08 * h
    mouth_y = 0.5 * h
    _draw_eyes(p, ident, rest, on_face, w, h, eye_y, hair)
    _draw_nose(p, ident, rest, on_face, w, h, eye_y, mouth_y, skin)
    _draw_mouth(p, ident, rest, on_face, w, h, mouth_y, skin)
    _draw_hair_cap(p, ident, style, volume, w, h, yaw, hair)


def _draw_ear(p: _Painter, ident: IdentityFactors, w, h, side: int, yaw: float, skin) -> None:
    # The ear on the side the face turns away from shows more; the other one hides behind the cheek.
    show = float(np.clip(1 - 1.8 * side * math.sin(yaw), 0.0, 1.8))
    if show < 0.05:
        return
    size = (0.16 + 0.1 * ident.ear_size) * h
    ew = size * 0.45 * show
    x0 = side * w * math.cos(yaw) * 0.95
    cx = x0 + side * ew * 0.6
    name = EAR_STYLES[ident.ear_style]
    if name == "large":
        size, ew, cx = size * 1.3, ew * 1.3, x0 + side * ew * 0.85
    pts = _ellipse(cx, -0.02 * h, ew, size * 0.55, 32)
    if name == "pointed":
        tip = np.array([[cx + side * ew * 0.9, -0.02 * h - size * 1.05]])
        pts = np.vstack([pts[pts[:, 1] > -0.02 * h - size * 0.15], tip])
        order = np.argsort(np.arctan2(pts[:, 1] + 0.02 * h, pts[:, 0] - cx))
        pts = pts[order]
    p.poly(pts, skin * 0.93, skin=None)
    p.poly(_ellipse(cx - side * ew * 0.05, -0.02 * h, ew * 0.45, size * 0.3, 20), skin * 0.78, skin=False)


def _draw_eyes(p: _Painter, ident, rest, on_face, w, h, eye_y, hair) -> None:
    ew = ident.eye_size * w
    eh_full = ew * ident.eye_roundness
    eh = eh_full * rest.eye_open
    brow_colour = hair * 0.7
    for side in (-1, 1):
        x, fs = on_face(side * ident.eye_spacing)
        rx = ew * fs
        if eh > 0.12 * eh_full:
            p.poly(_ellipse(x, eye_y, rx, eh, 32), (250, 250, 246), skin=False)
            r = min(eh_full * 0.75, ew * 0.55)
            ix = x + 0.35 * rx * math.sin(rest.yaw)
            p.poly(_ellipse(ix, eye_y, r * fs, min(r, eh * 0.98), 24), ident.eye_colour, skin=False)
            p.poly(_ellipse(ix, eye_y, r * 0.45 * fs, min(r * 0.45, eh * 0.9), 16), (15, 15, 20), skin=False)
            p.line(_ellipse(x, eye_y, rx, eh, 20, math.pi, 2 * math.pi + 1e-3), (40, 30, 30), 0.012, skin=False)
        else:
            p.line(np.array([[x - rx, eye_y], [x, eye_y + 0.02 * h], [x + rx, eye_y]]), (40, 30, 30), 0.012, skin=False)
        # Brows: raised or lowered by the expression; a lowered brow also slants towards the nose.
        by = eye_y - eh_full - 0.09 * h - 0.06 * h * rest.brow_raise
        slant = 0.03 * h * min(rest.brow_raise, 0) * side
        pts = np.array([[x - 1.1 * rx, by - slant * side * side], [x, by - 0.025 * h], [x + 1.1 * rx, by + slant]])
        if side > 0:
            pts[0, 1], pts[2, 1] = by + slant, by - slant
        p.line(pts, brow_colour, 0.012 + 0.02 * ident.brow_thickness, skin=False)


def _draw_nose(p: _Painter, ident, rest, on_face, w, h, eye_y, mouth_y, skin) -> None:
    x, fs = on_face(0.0)
    tip_x = x + 0.12 * w * math.sin(rest.yaw)  # the tip stands out from the face, so it moves further
    top_y = eye_y + 0.05 * h
    tip_y = eye_y + (mouth_y - eye_y) * (0.45 + 0.4 * ident.nose_length)
    nw = ident.nose_width * w * fs
    name = NOSE_STYLES[ident.nose_style]
    dark = skin * 0.78
    if name == "triangle":
        p.poly(np.array([[x, top_y], [tip_x + nw, tip_y], [tip_x - nw, tip_y]]), dark, skin=False)
    elif name == "nostrils":
        p.line(
            np.array([[x, top_y], [tip_x + 0.3 * nw * math.sin(rest.yaw), tip_y - 0.03 * h]]), dark, 0.01, skin=False
        )
        for side in (-1, 1):
            p.poly(_ellipse(tip_x + side * nw * 0.6, tip_y, nw * 0.3, nw * 0.2, 12), skin * 0.55, skin=False)
    else:
        p.poly(_ellipse(tip_x, tip_y - 0.02 * h, nw * 0.8, nw * 0.65, 20), dark, skin=False)


def _draw_mouth(p: _Painter, ident, rest, on_face, w, h, mouth_y, skin) -> None:
    x, fs = on_face(0.0)
    mw = ident.mouth_width * w * fs
    u = np.linspace(-1, 1, 21)
    bend = 0.12 * h * rest.smile * (u**2 - 0.35)  # smile lifts the corners, frown drops them
    xs = x + mw * u
    upper = np.stack([xs, mouth_y + bend], 1)
    lip = skin * (1 - ident.lip_colour) * 0.85 + np.array([190, 60, 70]) * ident.lip_colour
    if rest.mouth_open > 0.05:
        lower = np.stack([xs, mouth_y + bend + 0.16 * h * rest.mouth_open * (1 - u**2)], 1)
        p.poly(np.vstack([upper, lower[::-1]]), (70, 20, 30), skin=False)
        p.line(lower, lip, 0.014, skin=False)
    p.line(upper, lip, 0.014, skin=False)


def _draw_hair_cap(p: _Painter, ident, style, volume, w, h, yaw, hair) -> None:
    if style == "bald":
        return
    # The hairline follows the head cylinder, so a side parting moves with the yaw.
    cap_top = _ellipse(0.0, 0.0, w * volume, h * volume, 48, math.pi, 2 * math.pi)
    u = np.linspace(1, -1, 25)
    phis = np.arcsin(np.clip(u, -1, 1)) * 0.95
    hx = w * 1.02 * np.sin(np.clip(phis + yaw, -math.pi / 2, math.pi / 2))
    fringe = {"short": 0.6, "bob": 0.45, "long": 0.55, "spiky": 0.62, "bun": 0.66}[style]
    hy = -h * (fringe + 0.1 * np.abs(u) ** 3) + 0.25 * h * (np.abs(u) > 0.93)  # sideburns at the ends
    part = 0.35 * math.sin(-yaw) - 0.2
    hy = hy - 0.06 * h * np.exp(-((u - part) ** 2) / 0.02)
    cap = np.vstack([cap_top, np.stack([hx, hy], 1)])
    p.poly(cap, hair, skin=False)
    if style == "spiky":
        xs = np.linspace(-0.8, 0.8, 7) * w
        for i, sx in enumerate(xs):
            base_y = -h * volume * math.sqrt(max(0.0, 1 - (sx / (w * volume)) ** 2)) + 0.05 * h
            tip = (sx * 1.15, base_y - (0.22 + 0.12 * (i % 2) + 0.12 * ident.hair_volume) * h)
            p.poly(np.array([[sx - 0.16 * w, base_y], tip, [sx + 0.16 * w, base_y]]), hair, skin=False)
