// The mesh map: the organization's devices and the paths between them as their nodes report them, direct and
// relayed drawn differently, latency on hover, the reason for a relayed path on click; kept live by the paths
// stream (server-sent events). Up to 500 devices are drawn; beyond, filter by tag or hostname.

import {api, seg, devicesUpTo} from './api.js';
import {h, message, replace, debounce} from './dom.js';
import {layout, edgesOf} from './layout.js';

const MAX_DEVICES = 500;
const MAX_EDGES = 3000;
const WIDTH = 960;
const HEIGHT = 640;

export async function render(main, {organizationId}) {
  const filter = h('input', {type: 'search', id: 'map-filter', placeholder: 'hostname contains', size: 18});
  const tag = h('input', {type: 'search', id: 'map-tag', placeholder: 'tag', size: 12, hidden: true});
  const summary = h('p', {id: 'map-summary', class: 'muted'});
  const live = h('span', {id: 'map-live', class: 'muted'}, 'connecting…');
  const hover = h('p', {id: 'map-hover', class: 'muted'}, 'Hover over a path for its latency; click one for why it takes that path.');
  const details = h('div', {id: 'map-details'});
  const svg = h('svg:svg', {id: 'map', viewBox: '0 0 ' + WIDTH + ' ' + HEIGHT, width: WIDTH, height: HEIGHT,
    role: 'img', 'aria-label': 'mesh map'});
  const reports = new Map();
  let devices = [];
  let total = 0;
  let positions = new Map();
  let selected = null;
  let lastDevicesLoad = 0;
  let detailed = null;

  async function loadDevices() {
    lastDevicesLoad = Date.now();
    const query = {status: 'active'};
    if (filter.value) query.hostname = filter.value;
    if (tag.value) query.tag = tag.value;
    const answer = await devicesUpTo(organizationId, query, 2000);
    tag.hidden = !answer.devices.some(d => Array.isArray(d.tags));
    devices = tag.value ? answer.devices.filter(d => (d.tags || []).includes(tag.value)) : answer.devices;
    total = tag.value ? devices.length : answer.total;
  }

  async function loadPaths() {
    const answer = await api('GET', '/organizations/' + seg(organizationId) + '/paths');
    reports.clear();
    for (const report of answer.devices) reports.set(report.deviceId, report);
  }

  function draw() {
    const shown = devices.slice(0, MAX_DEVICES);
    const known = new Map(shown.map(d => [d.id, d]));
    const all = edgesOf(reports, known);
    const ids = shown.map(d => d.id);
    positions = layout(ids, all, WIDTH, HEIGHT, positions.size ? positions : null);
    const edges = chooseEdges(all);
    const counts = {direct: 0, relay: 0, none: 0};
    all.forEach(e => { counts[e.path]++; });
    replace(summary, shown.length + ' of ' + total + ' devices' + (total > shown.length
      ? ' (the map draws ' + MAX_DEVICES + ' at most: narrow it with the filter)' : '') + '; '
      + all.length + ' paths: ' + counts.direct + ' direct, ' + counts.relay + ' relayed, ' + counts.none + ' none'
      + (edges.length < all.length ? '; drawing ' + edges.length + ' (pick a device to see all of its)' : ''));
    const edgeLayer = h('svg:g', {class: 'edges'}, edges.map(edgeElement));
    const nodeLayer = h('svg:g', {class: 'nodes'}, shown.map(device => nodeElement(device)));
    svg.classList.toggle('crowded', shown.length > 100);
    replace(svg, edgeLayer, nodeLayer);
    // The path whose details show: shown again as it is now.
    const current = detailed && all.find(e => e.key === detailed);
    if (current) showEdge(current);
  }

  /** The selected device's paths first, then relayed and missing ones, then direct ones, up to MAX_EDGES. */
  function chooseEdges(all) {
    if (all.length <= MAX_EDGES) return all;
    const order = e => (selected && (e.a === selected || e.b === selected) ? 0 : e.path === 'relay' ? 1
      : e.path === 'none' ? 2 : 3);
    return [...all].sort((x, y) => order(x) - order(y)).slice(0, MAX_EDGES);
  }

  function name(id) {
    const device = devices.find(d => d.id === id);
    return device ? device.hostname : id;
  }

  function describe(edge) {
    return name(edge.a) + ' ↔ ' + name(edge.b) + ': ' + (edge.path === 'relay' ? 'relayed' : edge.path)
      + (edge.latencyMillis !== null ? ', ' + edge.latencyMillis.toFixed(1) + ' ms' : '');
  }

  function edgeElement(edge) {
    const a = positions.get(edge.a);
    const b = positions.get(edge.b);
    const dim = selected && edge.a !== selected && edge.b !== selected;
    const line = h('svg:line', {x1: a.x, y1: a.y, x2: b.x, y2: b.y,
      class: 'edge ' + edge.path + (dim ? ' dim' : ''), 'data-path': edge.path, 'data-a': edge.a, 'data-b': edge.b,
      onmouseenter: () => replace(hover, describe(edge)),
      onclick: () => showEdge(edge)},
    h('svg:title', {}, describe(edge)));
    return line;
  }

  function nodeElement(device) {
    const p = positions.get(device.id);
    const report = reports.get(device.id);
    return h('svg:g', {class: 'node' + (device.id === selected ? ' selected' : '') + (report ? '' : ' silent'),
      transform: 'translate(' + p.x.toFixed(1) + ',' + p.y.toFixed(1) + ')', 'data-device': device.id,
      onclick: () => { selected = selected === device.id ? null : device.id; draw(); showDevice(device); }},
    h('svg:circle', {r: 7}),
    h('svg:text', {x: 10, y: 4}, device.hostname),
    h('svg:title', {}, device.hostname + (report ? '' : ' (no path report)')));
  }

  function showEdge(edge) {
    detailed = edge.key;
    replace(details, h('div', {class: 'edge-details', id: 'map-edge-details'},
      h('h2', {}, name(edge.a) + ' ↔ ' + name(edge.b)),
      edge.sides.map(side => h('div', {class: 'side'},
        h('p', {}, h('strong', {}, name(side.from) + ' → ' + name(side.to) + ': '),
          side.path === 'relay' ? 'relayed' + (side.relay ? ' through ' + side.relay : '') : side.path,
          typeof side.latencyMillis === 'number' ? ', ' + side.latencyMillis.toFixed(1) + ' ms' : ''),
        side.reason ? h('p', {class: 'reason'}, side.reason) : null))));
  }

  function showDevice(device) {
    detailed = null;
    const report = reports.get(device.id);
    replace(details, h('div', {class: 'device-details'},
      h('h2', {}, device.hostname),
      h('p', {class: 'muted'}, device.id, ' · ', (device.overlayIps || []).join(', ')),
      report ? h('ul', {}, report.peers.map(peer => h('li', {}, name(peer.peerId) + ': '
        + (peer.path === 'relay' ? 'relayed' : peer.path)
        + (typeof peer.latencyMillis === 'number' ? ', ' + peer.latencyMillis.toFixed(1) + ' ms' : ''))))
        : h('p', {class: 'muted'}, 'Its node has not reported its paths.')));
  }

  const redraw = debounce(draw, 300);
  let source = null;
  function follow() {
    source = new EventSource('/api/v1/organizations/' + seg(organizationId) + '/paths/stream');
    source.addEventListener('paths', event => {
      const change = JSON.parse(event.data);
      let unknown = false;
      let changed = false;
      for (const report of change.devices) {
        const old = reports.get(report.deviceId);
        // The stream starts with every report, most of which the page already drew.
        if (old && old.reportedAt === report.reportedAt) continue;
        changed = true;
        reports.set(report.deviceId, report);
        if (!devices.some(d => d.id === report.deviceId)) unknown = true;
      }
      for (const id of change.removed) changed = reports.delete(id) || changed;
      replace(live, 'live · updated ' + new Date().toLocaleTimeString());
      live.dataset.sequence = String(change.sequence);
      if (unknown && Date.now() - lastDevicesLoad > 10000) {
        loadDevices().then(draw).catch(() => {});
      } else if (changed) {
        redraw();
      }
    });
    source.addEventListener('open', () => replace(live, 'live'));
    source.addEventListener('error', () => replace(live, 'reconnecting…'));
  }

  const reload = debounce(() => { selected = null; loadDevices().then(draw).catch(e => replace(details, message('error', e.message))); }, 300);
  filter.addEventListener('input', reload);
  tag.addEventListener('input', reload);

  replace(main, h('h1', {}, 'Mesh map'),
    h('p', {class: 'filters'}, filter, ' ', tag, ' ', live),
    h('p', {class: 'legend'}, h('span', {class: 'key direct'}, 'direct'), h('span', {class: 'key relay'}, 'relayed'),
      h('span', {class: 'key none'}, 'no path yet')),
    summary, h('div', {class: 'map-area'}, h('div', {class: 'map-frame'}, svg), h('aside', {}, hover, details)));
  await Promise.all([loadDevices(), loadPaths()]);
  draw();
  follow();
  return () => source && source.close();
}
