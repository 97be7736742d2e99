// Devices of one organization: filtered and paged by the API (fast at 10,000 devices: one page of 50 at a time),
// with each device's path summary from the paths its node reported; approve, rename, tag, revoke and delete.

import {api, seg} from './api.js';
import {h, message, replace, ago, confirmAction, debounce} from './dom.js';
import {pager} from './organizations.js';

const PAGE = 50;

export async function render(main, {organizationId}) {
  const status = h('select', {id: 'device-status'},
    ['', 'pending', 'active', 'revoked'].map(value => h('option', {value}, value || 'any status')));
  const hostname = h('input', {type: 'search', id: 'device-filter', placeholder: 'hostname contains', size: 20});
  const tag = h('input', {type: 'search', id: 'device-tag', placeholder: 'tag', size: 12});
  const notes = h('div', {id: 'device-notes'});
  const table = h('div', {id: 'device-list'});
  let offset = 0;
  let tagsSupported = false;

  async function load() {
    const params = new URLSearchParams({offset: String(offset), limit: String(PAGE)});
    if (status.value) params.set('status', status.value);
    if (hostname.value) params.set('hostname', hostname.value);
    if (tag.value) params.set('tag', tag.value);
    const page = await api('GET', '/organizations/' + seg(organizationId) + '/devices?' + params);
    tagsSupported = tagsSupported || page.devices.some(device => Array.isArray(device.tags));
    tag.hidden = !tagsSupported;
    // A control that does not filter by tag answers every device: filter this page here too.
    const shown = tag.value ? page.devices.filter(d => (d.tags || []).includes(tag.value)) : page.devices;
    const paths = await pathSummaries(organizationId, shown.map(d => d.id));
    replace(table, h('table', {class: 'list devices'},
      h('thead', {}, h('tr', {}, ['Status', 'Hostname', tagsSupported ? 'Tags' : null, 'Overlay addresses', 'NAT',
        'Home relay', 'Last seen', 'Paths', ''].filter(x => x !== null).map(title => h('th', {}, title)))),
      h('tbody', {}, shown.map(device => row(device, paths.get(device.id))))),
    pager(page.total, offset, next => { offset = next; refresh(); }));
  }

  function refresh() {
    load().catch(e => replace(notes, message('error', e.message)));
  }

  function row(device, paths) {
    const rowError = h('div', {class: 'row-error'});
    const name = h('span', {class: 'hostname'}, device.hostname);
    const cells = [
      h('td', {}, h('span', {class: 'status ' + device.status}, device.status)),
      h('td', {}, name, h('div', {class: 'muted small'}, device.id),
        Object.keys(device.metadata || {}).length ? h('div', {class: 'metadata small'},
          Object.entries(device.metadata).map(([k, v]) => h('span', {class: 'pair'}, k + '=' + v))) : null),
      tagsSupported ? h('td', {class: 'tags'}, (device.tags || []).map(t => h('span', {class: 'tag'}, t))) : null,
      h('td', {}, (device.overlayIps || []).map(ip => h('div', {}, h('code', {}, ip)))),
      h('td', {}, natSummary(device.nat)),
      h('td', {class: 'home-relay'}, device.homeRelay || (paths && paths.homeRelay) || '—'),
      h('td', {title: device.lastSeen ? new Date(device.lastSeen).toISOString() : ''}, ago(device.lastSeen)),
      h('td', {class: 'paths'}, paths ? [h('span', {class: 'direct'}, paths.direct + ' direct'), ' · ',
        h('span', {class: 'relay'}, paths.relay + ' relayed'), paths.none ? [' · ', paths.none + ' none'] : null]
        : h('span', {class: 'muted'}, 'no report')),
      h('td', {class: 'actions'}, actions(device, rowError, name), rowError),
    ].filter(x => x !== null);
    return h('tr', {'data-device': device.id, 'data-status': device.status}, cells);
  }

  function actions(device, rowError, name) {
    // fn answers false when nothing was done (a cancelled confirmation): the page stays as it is.
    const run = fn => async () => {
      replace(rowError);
      try {
        if (await fn() === false) return;
        refresh();
      } catch (e) {
        replace(rowError, message('error', e.message));
      }
    };
    const buttons = [];
    if (device.status === 'pending') {
      buttons.push(button('approve', 'Approve', run(() => api('POST', '/devices/' + seg(device.id) + '/approve'))));
    }
    buttons.push(button('rename', 'Rename', () => edit(rowError, device.hostname, 'hostname', async value =>
      api('PATCH', '/devices/' + seg(device.id), {hostname: value}))));
    if (tagsSupported) {
      buttons.push(button('tag', 'Tags', () => edit(rowError, (device.tags || []).join(', '), 'tags, comma-separated',
        async value => api('PATCH', '/devices/' + seg(device.id),
          {tags: value.split(',').map(t => t.trim()).filter(Boolean)}))));
    }
    if (device.status !== 'revoked') {
      buttons.push(button('revoke', 'Revoke', run(async () => {
        if (!await confirmAction('Revoke ' + device.hostname + '? Its peers drop it and relays refuse it.', 'Revoke')) {
          return false;
        }
        await api('POST', '/devices/' + seg(device.id) + '/revoke');
      }), 'danger'));
    }
    buttons.push(button('delete', 'Delete', run(async () => {
      if (!await confirmAction('Delete ' + device.hostname + '? This cannot be undone.', 'Delete')) {
        return false;
      }
      await api('DELETE', '/devices/' + seg(device.id));
    }), 'danger'));
    return buttons;
  }

  function button(action, label, onclick, cls) {
    return h('button', {type: 'button', class: 'small ' + (cls || ''), 'data-action': action, onclick}, label);
  }

  /** An inline editor under the row; the API's refusal shows next to the field. */
  function edit(place, value, label, save) {
    const input = h('input', {type: 'text', value, 'aria-label': label, size: 24});
    const error = h('span', {class: 'field-error'});
    replace(place, h('form', {class: 'inline', onsubmit: async event => {
      event.preventDefault();
      try {
        await save(input.value.trim());
        refresh();
      } catch (e) {
        replace(error, e.message);
      }
    }}, input, ' ', h('button', {type: 'submit', class: 'small'}, 'Save'), ' ',
    h('button', {type: 'button', class: 'small', onclick: () => replace(place)}, 'Cancel'), ' ', error));
    input.focus();
  }

  const reload = debounce(() => { offset = 0; refresh(); }, 250);
  status.addEventListener('change', reload);
  hostname.addEventListener('input', reload);
  tag.addEventListener('input', reload);
  tag.hidden = true;

  replace(main, h('h1', {}, 'Devices'),
    h('p', {class: 'filters'}, status, ' ', hostname, ' ', tag, ' ',
      h('button', {type: 'button', class: 'small', id: 'device-refresh', onclick: refresh}, 'Refresh')),
    notes, table);
  await load();
}

function natSummary(nat) {
  if (!nat) return h('span', {class: 'muted'}, 'not reported');
  if (nat.noNat) return 'no NAT';
  if (nat.udp === false) return 'UDP blocked';
  const kind = nat.mapping ? nat.mapping + ' mapping' : (nat.classic || '—');
  return h('span', {title: [nat.classic, nat.filtering && nat.filtering + ' filtering'].filter(Boolean).join('; ')},
    kind);
}

/** Per device: how many peers it reaches directly, relayed or not at all, and its relay (the one its relayed paths use). */
async function pathSummaries(organizationId, deviceIds) {
  const summaries = new Map();
  if (deviceIds.length === 0) return summaries;
  let answer;
  try {
    answer = await api('GET', '/organizations/' + seg(organizationId) + '/paths?devices=' + deviceIds.join(','));
  } catch (e) {
    return summaries;
  }
  for (const report of answer.devices) {
    const relays = new Map();
    for (const peer of report.peers || []) {
      if (peer.path === 'relay' && peer.relay) relays.set(peer.relay, (relays.get(peer.relay) || 0) + 1);
    }
    const homeRelay = [...relays.entries()].sort((a, b) => b[1] - a[1]).map(e => e[0])[0];
    summaries.set(report.deviceId, {direct: report.direct, relay: report.relay, none: report.none, homeRelay});
  }
  return summaries;
}
