"""The offline base map: the shipped GeoJSON and the converter that made it from Natural Earth."""

import json
from pathlib import Path

from django.conf import settings

from dashboards.make_countries_geojson import BBOX, clip, convert

GEO = Path(settings.BASE_DIR) / "static" / "geo" / "countries.geojson"


def test_the_converter_decodes_topojson_and_clips_to_the_box():
    # One square from (0, 40) to (10, 60) in a quantised topology: half of it lies south of the box.
    topology = {
        "type": "Topology",
        "transform": {"scale": [1, 1], "translate": [0, 40]},
        "arcs": [[[0, 0], [10, 0], [0, 20], [-10, 0], [0, -20]]],
        "objects": {"countries": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0]], "id": "999", "properties": {"name": "Squareland"}},
            {"type": "Polygon", "arcs": [[-1]], "id": "998", "properties": {"name": "Reversed"}},
        ]}},
    }
    out = convert(topology)
    assert [f["properties"]["name"] for f in out["features"]] == ["Squareland", "Reversed"]
    ring = out["features"][0]["geometry"]["coordinates"][0][0]
    assert ring[0] == ring[-1]
    lats = {p[1] for p in ring}
    assert min(lats) == BBOX[1] and max(lats) == 60


def test_a_ring_outside_the_box_disappears():
    assert clip([(100, 10), (101, 10), (101, 11), (100, 10)]) == []


def test_the_shipped_map_covers_the_baltic_sea_countries_and_names_its_source():
    data = json.loads(GEO.read_text(encoding="utf-8"))
    names = {f["properties"]["name"] for f in data["features"]}
    assert {"Sweden", "Finland", "Estonia", "Latvia", "Lithuania", "Poland", "Germany", "Denmark", "Norway"} <= names
    assert "Natural Earth" in data["attribution"]
    for f in data["features"]:
        for polygon in f["geometry"]["coordinates"]:
            for ring in polygon:
                for lon, lat in ring:
                    assert BBOX[0] <= lon <= BBOX[2] and BBOX[1] <= lat <= BBOX[3]
    assert GEO.stat().st_size < 300_000
