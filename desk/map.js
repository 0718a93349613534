// The map of a story: its developments with a place as points on a world
// map, labelled and linked to their timeline entry, drawn from the state
// of the page's cut (so it follows the replay). The land is Natural
// Earth's, from the vendored world-atlas TopoJSON (topojson-client turns
// it into polygons); no tile server, nothing fetched from outside. A place
// given without coordinates is placed by the reports' gazetteer
// (`/places`), when it knows the name.
'use strict';

const storyMap = (() => {
  // Equirectangular: x from longitude, y from latitude, 2 units a degree.
  const SCALE = 2;
  const project = (lon, lat) => [(lon + 180) * SCALE, (90 - lat) * SCALE];
  let land = null;
  const gazetteer = new Map();

  const { svg } = desk;

  /** The land as one SVG path, read once. */
  async function landPath() {
    if (land) return land;
    const response = await fetch('/desk/vendor/world-atlas/land-110m.json');
    const topology = await response.json();
    const geometry = topojson.feature(topology, topology.objects.land);
    const polygons = geometry.type === 'FeatureCollection'
      ? geometry.features.flatMap((f) => (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates))
      : (geometry.geometry.type === 'Polygon' ? [geometry.geometry.coordinates] : geometry.geometry.coordinates);
    let d = '';
    for (const polygon of polygons) {
      for (const ring of polygon) {
        // A ring that crosses the antimeridian jumps rather than draws a
        // line across the world.
        d += ring.map(([lon, lat], i) => {
          const jump = i === 0 || Math.abs(lon - ring[i - 1][0]) > 180;
          return `${jump ? 'M' : 'L'}${project(lon, lat).map((v) => v.toFixed(1)).join(',')}`;
        }).join('') + 'Z';
      }
    }
    land = d;
    return land;
  }

  /** Coordinates of the places the gazetteer is asked for, by name. */
  async function lookUp(names) {
    const missing = names.filter((name) => !gazetteer.has(name));
    if (missing.length) {
      const query = missing.map((name) => 'name=' + encodeURIComponent(name)).join('&');
      const found = await (await fetch('/places?' + query)).json();
      for (const place of found) gazetteer.set(place.name, place);
    }
  }

  /** The developments with a position: their own, else the gazetteer's. */
  async function placed(state) {
    const located = state.developments.filter((d) => d.location);
    await lookUp([...new Set(located.filter((d) => d.location.latitude === null || d.location.longitude === null)
      .map((d) => d.location.name))]);
    return located.map((d) => {
      const own = d.location.latitude !== null && d.location.longitude !== null;
      const known = gazetteer.get(d.location.name);
      const [lat, lon] = own ? [d.location.latitude, d.location.longitude]
        : (known && known.latitude !== null ? [known.latitude, known.longitude] : [null, null]);
      return lat === null ? null : { development: d, lat, lon, byGazetteer: !own };
    }).filter(Boolean);
  }

  /** Draws the map of `state` into `container`. */
  async function render(container, state) {
    const points = await placed(state);
    if (!points.length) {
      container.replaceChildren(desk.h('p', { class: 'muted' }, 'No development with a known place at this cut.'));
      return;
    }
    const projected = points.map((p) => project(p.lon, p.lat));
    const xs = projected.map(([x]) => x);
    const ys = projected.map(([, y]) => y);
    // The points' box, at least 40° by 24°, with a margin (wider on the
    // right, where the labels go).
    const [left, right] = [Math.min(...xs) - 10 * SCALE, Math.max(...xs) + 25 * SCALE];
    const [cx, cy] = [(left + right) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
    const width = Math.max(right - left, 40 * SCALE);
    const height = Math.max(Math.max(...ys) - Math.min(...ys) + 12 * SCALE, 24 * SCALE, width * 0.55);
    const viewBox = [cx - width / 2, cy - height / 2, width, height].map((v) => v.toFixed(1)).join(' ');
    const radius = width / 120;
    const labelled = new Set();
    const marks = points.map((p, i) => {
      const [x, y] = projected[i];
      const d = p.development;
      // One label a spot: developments at the same place share it.
      const spot = `${x.toFixed(0)},${y.toFixed(0)}`;
      const label = labelled.has(spot) ? null
        : svg('text', { x: x + radius * 1.5, y: y + radius * 0.6, 'font-size': radius * 3 }, d.location.name);
      labelled.add(spot);
      return svg('a', { href: `#development-${d.id}`, class: 'map-point', 'data-development-id': d.id },
        svg('circle', { cx: x, cy: y, r: radius }),
        label,
        svg('title', {}, `${d.headline} — ${d.location.name}${p.byGazetteer ? ' (placed by the gazetteer)' : ''}`));
    });
    container.replaceChildren(svg('svg', { viewBox, width: '100%', role: 'img', 'aria-label': 'Where the developments happened' },
      svg('rect', { class: 'sea', x: -10, y: -10, width: 380 * SCALE, height: 200 * SCALE }),
      svg('path', { class: 'land', d: await landPath(), 'stroke-width': width / 600 }),
      ...marks));
  }

  return { render };
})();
