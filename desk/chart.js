// Figures over time: for each (metric, place), each claimant's figures as
// a step line over occurredAt (a point for a single claim), the band every
// claim admits when they agree, a disputed one marked. Plain SVG: no chart
// library to vendor for a few lines. Drawn from the state of the page's
// cut, so it follows the replay like the rest of the page.
'use strict';

const chart = (() => {
  const WIDTH = 420;
  const HEIGHT = 110;
  const MARGIN = { top: 10, right: 12, bottom: 22, left: 52 };
  const COLOURS = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#5d4037', '#ad1457'];

  const { svg } = desk;

  /** The figures of the timeline by (metric, place), then by claimant. */
  function series(state) {
    const groups = new Map();
    for (const d of state.developments) {
      if (d.verification === 'FALSE') continue;
      for (const f of d.figures) {
        const key = `${f.metric}\u0000${f.place || ''}`;
        if (!groups.has(key)) groups.set(key, new Map());
        const claimant = f.claimedBy || 'unattributed';
        const points = groups.get(key);
        if (!points.has(claimant)) points.set(claimant, []);
        points.get(claimant).push({ at: Date.parse(d.occurredAt), value: f.value, low: f.low, high: f.high });
      }
    }
    return groups;
  }

  function compact(value) {
    return new Intl.NumberFormat('en-GB', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
  }

  function day(ms) {
    return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: '2-digit' }).format(new Date(ms));
  }

  function plot(group, claimants) {
    const all = [...claimants.values()].flat();
    let [from, to] = [Math.min(...all.map((p) => p.at)), Math.max(...all.map((p) => p.at))];
    if (from === to) { from -= 86400000; to += 86400000; }
    const top = Math.max(...all.map((p) => p.high ?? p.value), group.agreedHigh ?? 0) * 1.1 || 1;
    const x = (at) => MARGIN.left + ((at - from) / (to - from)) * (WIDTH - MARGIN.left - MARGIN.right);
    const y = (v) => HEIGHT - MARGIN.bottom - (v / top) * (HEIGHT - MARGIN.top - MARGIN.bottom);
    const parts = [];
    if (!group.disputed && group.claims.length > 1 && (group.agreedLow !== null || group.agreedHigh !== null)) {
      const low = group.agreedLow ?? 0;
      const high = group.agreedHigh ?? top;
      parts.push(svg('rect', { class: 'agreed-band', x: MARGIN.left, y: y(high), width: WIDTH - MARGIN.left - MARGIN.right,
        height: Math.max(1, y(low) - y(high)) }, svg('title', {}, `every claim admits ${compact(low)}–${compact(high)}`)));
    }
    parts.push(svg('line', { class: 'axis', x1: MARGIN.left, y1: HEIGHT - MARGIN.bottom, x2: WIDTH - MARGIN.right, y2: HEIGHT - MARGIN.bottom }));
    parts.push(svg('line', { class: 'axis', x1: MARGIN.left, y1: MARGIN.top, x2: MARGIN.left, y2: HEIGHT - MARGIN.bottom }));
    parts.push(svg('text', { class: 'tick', x: MARGIN.left - 4, y: y(top / 1.1) + 4, 'text-anchor': 'end' }, compact(top / 1.1)));
    parts.push(svg('text', { class: 'tick', x: MARGIN.left - 4, y: y(0) + 4, 'text-anchor': 'end' }, '0'));
    parts.push(svg('text', { class: 'tick', x: MARGIN.left, y: HEIGHT - 6 }, day(from)));
    parts.push(svg('text', { class: 'tick', x: WIDTH - MARGIN.right, y: HEIGHT - 6, 'text-anchor': 'end' }, day(to)));
    const legend = [];
    [...claimants.entries()].forEach(([claimant, points], i) => {
      const colour = COLOURS[i % COLOURS.length];
      points.sort((a, b) => a.at - b.at);
      if (points.length > 1) {
        // A step line: each claim holds until the claimant's next.
        let d = `M${x(points[0].at)},${y(points[0].value)}`;
        for (const p of points.slice(1)) d += ` H${x(p.at)} V${y(p.value)}`;
        parts.push(svg('path', { class: 'claim-line', d, stroke: colour, 'data-claimant': claimant }));
      }
      for (const p of points) {
        parts.push(svg('circle', { class: 'claim-point', cx: x(p.at), cy: y(p.value), r: 3.5, fill: colour, 'data-claimant': claimant },
          svg('title', {}, `${claimant}: ${compact(p.value)}, ${day(p.at)}`)));
      }
      legend.push(svg('tspan', { fill: colour, dx: i ? 10 : 0 }, `● ${claimant}`));
    });
    const title = `${group.metric}${group.place ? ' · ' + group.place : ''}${group.disputed ? ' (disputed)' : ''}`;
    return desk.h('figure', { class: `figure-chart${group.disputed ? ' disputed' : ''}` },
      desk.h('figcaption', {}, title),
      svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT + 16}`, width: '100%', role: 'img', 'aria-label': title },
        ...parts, svg('text', { class: 'legend', x: MARGIN.left, y: HEIGHT + 12 }, ...legend)));
  }

  /** Draws the charts of `state` into `container`. */
  function render(container, state) {
    const groups = series(state);
    const charts = state.figureClaims
      .map((group) => [group, groups.get(`${group.metric}\u0000${group.place || ''}`)])
      .filter(([, claimants]) => claimants && claimants.size)
      .map(([group, claimants]) => plot(group, claimants));
    container.replaceChildren(...charts);
    if (!charts.length) container.append(desk.h('p', { class: 'muted' }, 'No figures to chart at this cut.'));
  }

  return { render };
})();
