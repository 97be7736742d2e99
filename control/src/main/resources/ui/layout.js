// Where the map puts its devices: a circle for a few, a force layout (repulsion between all, springs along paths)
// for more, seeded by the positions they had, so a live update moves little. Pure functions of their input.

/** Positions {id: {x, y}} in a width × height box. */
export function layout(ids, edges, width, height, previous) {
  const n = ids.length;
  const positions = new Map();
  if (n === 0) return positions;
  const cx = width / 2;
  const cy = height / 2;
  const radius = Math.min(width, height) / 2 - 40;
  ids.forEach((id, i) => {
    const angle = (2 * Math.PI * i) / n - Math.PI / 2;
    const old = previous && previous.get(id);
    positions.set(id, old ? {x: old.x, y: old.y} : {x: cx + radius * Math.cos(angle), y: cy + radius * Math.sin(angle)});
  });
  if (n <= 24) return circle(ids, cx, cy, radius);
  force(ids, edges, positions, width, height, previous ? 60 : 200);
  return positions;
}

function circle(ids, cx, cy, radius) {
  const positions = new Map();
  ids.forEach((id, i) => {
    const angle = (2 * Math.PI * i) / ids.length - Math.PI / 2;
    positions.set(id, {x: cx + radius * Math.cos(angle), y: cy + radius * Math.sin(angle)});
  });
  return positions;
}

/** Fruchterman–Reingold with a cooling step; O(n²) per round, fine for the 500 devices the map draws. */
function force(ids, edges, positions, width, height, rounds) {
  const n = ids.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const index = new Map();
  ids.forEach((id, i) => {
    const p = positions.get(id);
    xs[i] = p.x;
    ys[i] = p.y;
    index.set(id, i);
  });
  const links = [];
  for (const edge of edges) {
    const a = index.get(edge.a);
    const b = index.get(edge.b);
    if (a !== undefined && b !== undefined) links.push([a, b]);
  }
  const k = Math.sqrt((width * height) / n) * 0.8;
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  let temperature = width / 10;
  for (let round = 0; round < rounds; round++) {
    dx.fill(0);
    dy.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let ddx = xs[i] - xs[j];
        let ddy = ys[i] - ys[j];
        let d2 = ddx * ddx + ddy * ddy;
        if (d2 < 0.01) {
          ddx = (i - j) * 0.1;
          ddy = 0.1;
          d2 = ddx * ddx + ddy * ddy;
        }
        const f = (k * k) / d2;
        dx[i] += ddx * f;
        dy[i] += ddy * f;
        dx[j] -= ddx * f;
        dy[j] -= ddy * f;
      }
    }
    for (const [a, b] of links) {
      const ddx = xs[a] - xs[b];
      const ddy = ys[a] - ys[b];
      const d = Math.sqrt(ddx * ddx + ddy * ddy) || 0.01;
      const f = d / k;
      dx[a] -= ddx * f;
      dy[a] -= ddy * f;
      dx[b] += ddx * f;
      dy[b] += ddy * f;
    }
    for (let i = 0; i < n; i++) {
      // A pull to the middle keeps groups without paths between them on the page.
      dx[i] += (width / 2 - xs[i]) * 0.01 * k / 10;
      dy[i] += (height / 2 - ys[i]) * 0.01 * k / 10;
      const d = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) || 1;
      const step = Math.min(d, temperature);
      xs[i] = Math.min(width - 20, Math.max(20, xs[i] + (dx[i] / d) * step));
      ys[i] = Math.min(height - 20, Math.max(20, ys[i] + (dy[i] / d) * step));
    }
    temperature *= 0.97;
  }
  ids.forEach((id, i) => positions.set(id, {x: xs[i], y: ys[i]}));
}

/**
 * One edge per pair of devices from both sides' reports: direct when either side goes direct, else relayed when
 * either is, else none; the lower latency; each side's reason and relay kept for the details.
 */
export function edgesOf(reports, known) {
  const edges = new Map();
  for (const report of reports.values()) {
    for (const peer of report.peers || []) {
      if (known && (!known.has(report.deviceId) || !known.has(peer.peerId))) continue;
      const [a, b] = report.deviceId < peer.peerId ? [report.deviceId, peer.peerId] : [peer.peerId, report.deviceId];
      const key = a + ' ' + b;
      let edge = edges.get(key);
      if (!edge) {
        edge = {key, a, b, path: 'none', latencyMillis: null, sides: []};
        edges.set(key, edge);
      }
      edge.sides.push({from: report.deviceId, to: peer.peerId, path: peer.path, latencyMillis: peer.latencyMillis,
        relay: peer.relay, reason: peer.reason});
      edge.path = rank(peer.path) > rank(edge.path) ? peer.path : edge.path;
      if (typeof peer.latencyMillis === 'number' && peer.path === edge.path
        && (edge.latencyMillis === null || peer.latencyMillis < edge.latencyMillis)) {
        edge.latencyMillis = peer.latencyMillis;
      }
    }
  }
  return [...edges.values()];
}

function rank(path) {
  return path === 'direct' ? 2 : path === 'relay' ? 1 : 0;
}
