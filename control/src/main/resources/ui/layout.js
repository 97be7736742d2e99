// Where the map puts its devices, and which lines it draws between them. Pure functions of their input.

/**
 * Positions {id: {x, y}} in a width × height box. The same devices keep the positions they had (a live update moves
 * nothing); otherwise a circle for a few, else a sunflower spiral (evenly spread, however many) in the order of a
 * walk along the paths, so devices with paths between them sit close.
 */
export function layout(ids, edges, width, height, previous) {
  const n = ids.length;
  if (previous && previous.size === n && ids.every(id => previous.has(id))) return previous;
  const cx = width / 2;
  const cy = height / 2;
  const radius = Math.min(width, height) / 2 - 40;
  if (n <= 24) return circle(ids, cx, cy, radius);
  const order = walk(ids, edges);
  const positions = new Map();
  const golden = Math.PI * (3 - Math.sqrt(5));
  order.forEach((id, i) => {
    const r = Math.sqrt((i + 0.5) / n);
    positions.set(id, {x: cx + (width / 2 - 30) * r * Math.cos(i * golden),
      y: cy + (height / 2 - 30) * r * Math.sin(i * golden)});
  });
  return positions;
}

/** The devices in breadth-first order along the paths, each group of connected devices after the last. */
function walk(ids, edges) {
  const neighbours = new Map(ids.map(id => [id, []]));
  for (const edge of edges) {
    if (neighbours.has(edge.a) && neighbours.has(edge.b)) {
      neighbours.get(edge.a).push(edge.b);
      neighbours.get(edge.b).push(edge.a);
    }
  }
  const seen = new Set();
  const order = [];
  for (const start of ids) {
    if (seen.has(start)) continue;
    seen.add(start);
    const queue = [start];
    while (queue.length) {
      const id = queue.shift();
      order.push(id);
      for (const next of neighbours.get(id)) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
  }
  return order;
}

function circle(ids, cx, cy, radius) {
  const positions = new Map();
  ids.forEach((id, i) => {
    const angle = (2 * Math.PI * i) / ids.length - Math.PI / 2;
    positions.set(id, {x: cx + radius * Math.cos(angle), y: cy + radius * Math.sin(angle)});
  });
  return positions;
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
