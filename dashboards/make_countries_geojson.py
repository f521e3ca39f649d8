"""Build static/geo/countries.geojson, the offline base map of the dashboards, from Natural Earth.

Run once when the base map should change (the output is committed):

    npm pack world-atlas@2 && tar xzf world-atlas-2.*.tgz
    python -m dashboards.make_countries_geojson package/countries-50m.json static/geo/countries.geojson

world-atlas redistributes Natural Earth's Admin 0 country boundaries (public domain) as TopoJSON.
This script decodes the TopoJSON (quantised, delta-encoded arcs), clips every ring to the Baltic Sea
Region's bounding box (Sutherland-Hodgman against a rectangle) and writes plain GeoJSON with
coordinates rounded to 0.001° (about 100 m). Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BBOX = (-2.0, 50.0, 42.0, 72.0)  # west, south, east, north: Norway to Russia's border, Germany to Lapland
DIGITS = 3


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points, x, y = [], 0, 0
        for dx, dy, *_ in arc:
            if transform:
                x, y = x + dx, y + dy
                sx, sy = transform["scale"]
                tx, ty = transform["translate"]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((dx, dy))
        arcs.append(points)
    return arcs


def ring(arcs, indices: list[int]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for i in indices:
        points = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        out.extend(points if not out else points[1:])
    return out


def clip(points: list[tuple[float, float]], bbox=BBOX) -> list[tuple[float, float]]:
    """Sutherland-Hodgman clipping of a closed ring against an axis-aligned rectangle."""
    west, south, east, north = bbox
    edges = (
        (lambda p: p[0] >= west, lambda a, b: _at_x(a, b, west)),
        (lambda p: p[0] <= east, lambda a, b: _at_x(a, b, east)),
        (lambda p: p[1] >= south, lambda a, b: _at_y(a, b, south)),
        (lambda p: p[1] <= north, lambda a, b: _at_y(a, b, north)),
    )
    out = points[:-1] if points and points[0] == points[-1] else list(points)
    for inside, cut in edges:
        if not out:
            break
        src, out = out, []
        prev = src[-1]
        for cur in src:
            if inside(cur):
                if not inside(prev):
                    out.append(cut(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cut(prev, cur))
            prev = cur
    return out


def _at_x(a, b, x):
    t = (x - a[0]) / (b[0] - a[0])
    return (x, a[1] + t * (b[1] - a[1]))


def _at_y(a, b, y):
    t = (y - a[1]) / (b[1] - a[1])
    return (a[0] + t * (b[0] - a[0]), y)


def tidy(points) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in points:
        p = [round(x, DIGITS), round(y, DIGITS)]
        if not out or out[-1] != p:
            out.append(p)
    if len(out) >= 3:
        out.append(out[0])
    return out if len(out) >= 4 else []


def convert(topology: dict, bbox=BBOX) -> dict:
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        kind = geometry.get("type")
        polygons = [geometry["arcs"]] if kind == "Polygon" else geometry.get("arcs", []) if kind == "MultiPolygon" else []
        out = []
        for polygon in polygons:
            rings = [tidy(clip(ring(arcs, r), bbox)) for r in polygon]
            if rings and rings[0]:
                out.append([r for r in rings if r])
        if not out:
            continue
        features.append({
            "type": "Feature",
            "properties": {"name": geometry.get("properties", {}).get("name", ""), "id": geometry.get("id", "")},
            "geometry": {"type": "MultiPolygon", "coordinates": out},
        })
    return {
        "type": "FeatureCollection",
        "bbox": list(bbox),
        "attribution": "Made with Natural Earth (public domain), via world-atlas 2 (countries-50m).",
        "features": features,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    topology = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    data = convert(topology)
    Path(argv[2]).write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    print(f"{len(data['features'])} countries written to {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
